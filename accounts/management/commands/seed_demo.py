"""Fill the database with a realistic demo: departments, one user per role, customers."""

from __future__ import annotations

import importlib
import math
import random
import secrets
import time
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.utils import timezone

from accounts import permissions
from accounts.models import (
    Contact,
    CreditTerms,
    Customer,
    CustomerStatus,
    CustomerType,
    DecisionRole,
    Department,
    Industry,
    SourceChannel,
    Transaction,
    User,
)
from accounts.permissions import Role
from accounts.validators import CREDIT_CODE_ALPHABET, credit_code_check_character
from config import page_cache

BATCH = 5000

DEPARTMENTS = [("east", "华东大客户部"), ("north", "华北大客户部")]
# username, family name, given name, role, department code, title
PEOPLE = [
    ("admin", "管", "理员", None, None, "系统管理员"),
    ("gm", "王", "建国", Role.EXECUTIVE, None, "总经理"),
    ("finance", "李", "会计", Role.FINANCE, None, "财务经理"),
    ("head_east", "陈", "东明", Role.DEPARTMENT_HEAD, "east", "华东大客户部经理"),
    ("head_north", "赵", "北辰", Role.DEPARTMENT_HEAD, "north", "华北大客户部经理"),
    ("am_east1", "张", "伟", Role.ACCOUNT_MANAGER, "east", "客户经理"),
    ("am_east2", "刘", "芳", Role.ACCOUNT_MANAGER, "east", "客户经理"),
    ("am_north1", "杨", "磊", Role.ACCOUNT_MANAGER, "north", "客户经理"),
]
NAMED_MANAGERS = {"east": ["am_east1", "am_east2"], "north": ["am_north1"]}
REGIONS = {
    "east": [("上海市", "上海"), ("江苏省", "南京"), ("江苏省", "苏州"), ("浙江省", "杭州"),
             ("浙江省", "宁波"), ("安徽省", "合肥"), ("山东省", "青岛")],
    "north": [("北京市", "北京"), ("天津市", "天津"), ("河北省", "石家庄"), ("山西省", "太原"),
              ("内蒙古自治区", "呼和浩特"), ("河北省", "唐山")],
}  # fmt: skip
# At scale the demo looks like a national organisation: a department per ~8,000 customers and
# account managers with books a little under the pool policy's cap of 200 customers.
CUSTOMERS_PER_DEPARTMENT = 8000
BOOK_SIZE = 165
# From this many customers the demo also gets a year of visits, complaints and contracts made
# set-based; smaller demos keep their handful made through the services.
HISTORY_FROM = 1000
# Departments added at scale, after east and north: code, name, (province, city).
EXTRA_DEPARTMENTS = [
    ("gd", "广东大客户部", [("广东省", "广州"), ("广东省", "深圳"), ("广东省", "东莞")]),
    ("sc", "四川大客户部", [("四川省", "成都"), ("四川省", "绵阳"), ("四川省", "宜宾")]),
    ("hb", "湖北大客户部", [("湖北省", "武汉"), ("湖北省", "宜昌"), ("湖北省", "襄阳")]),
    ("hn", "湖南大客户部", [("湖南省", "长沙"), ("湖南省", "株洲"), ("湖南省", "岳阳")]),
    ("ha", "河南大客户部", [("河南省", "郑州"), ("河南省", "洛阳"), ("河南省", "新乡")]),
    ("fj", "福建大客户部", [("福建省", "福州"), ("福建省", "厦门"), ("福建省", "泉州")]),
    ("sn", "陕西大客户部", [("陕西省", "西安"), ("陕西省", "宝鸡"), ("陕西省", "咸阳")]),
    ("ln", "辽宁大客户部", [("辽宁省", "沈阳"), ("辽宁省", "大连"), ("辽宁省", "鞍山")]),
    ("cq", "重庆大客户部", [("重庆市", "重庆")]),
    ("gx", "广西大客户部", [("广西壮族自治区", "南宁"), ("广西壮族自治区", "柳州")]),
    ("yn", "云南大客户部", [("云南省", "昆明"), ("云南省", "曲靖")]),
    ("jx", "江西大客户部", [("江西省", "南昌"), ("江西省", "赣州")]),
    ("gz", "贵州大客户部", [("贵州省", "贵阳"), ("贵州省", "遵义")]),
    ("hl", "黑龙江大客户部", [("黑龙江省", "哈尔滨"), ("黑龙江省", "大庆")]),
    ("jl", "吉林大客户部", [("吉林省", "长春"), ("吉林省", "吉林")]),
    ("gs", "甘肃大客户部", [("甘肃省", "兰州"), ("甘肃省", "天水")]),
    ("xj", "新疆维吾尔自治区大客户部", [("新疆维吾尔自治区", "乌鲁木齐")]),
    ("hi", "海南大客户部", [("海南省", "海口"), ("海南省", "三亚")]),
]  # fmt: skip
# Second, third … departments of a region once every region has one: 广东大客户二部.
ORDINALS = "二三四五六七八九十"
NAME_WORDS = "华鼎 恒信 瑞丰 盛达 远航 金桥 宏图 天成 新元 博远 中和 嘉禾 海纳 东方 联创 锦程 永泰 德润 启明 星辰 长河 万通 正邦 汇丰 同德".split()  # noqa: E501
INDUSTRY_WORDS = {
    Industry.MANUFACTURING: ["机械制造", "精密仪器", "汽车零部件"],
    Industry.ENERGY: ["能源", "新能源科技", "电力设备"],
    Industry.FINANCE: ["投资控股", "融资租赁"],
    Industry.IT: ["信息技术", "软件", "数据科技"],
    Industry.TELECOM: ["通信技术", "网络科技"],
    Industry.RETAIL: ["商贸", "供应链管理"],
    Industry.CONSTRUCTION: ["建设工程", "置业"],
    Industry.LOGISTICS: ["物流", "国际货运"],
    Industry.HEALTHCARE: ["医药", "医疗器械"],
    Industry.EDUCATION: ["教育科技"],
}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"  # noqa: E501
GIVEN = "伟 芳 娜 敏 静 丽 强 磊 军 洋 勇 艳 杰 娟 涛 明 超 秀英 霞 平 刚 桂英 建华 文 华 建国 志强 海燕 晓东 雪梅 俊杰 思远 子涵 浩然 雨萱".split()  # noqa: E501
CUSTOMER_FIELDS = [
    "id", "name", "short_name", "credit_code", "customer_type", "industry", "province", "city",
    "address", "source_channel", "status", "department_id", "primary_manager_id",
    "assistant_manager_id", "credit_terms", "credit_limit", "created_by_id", "created_at",
    "last_verified_at", "tier", "notes", "terminated_reason", "pool_locked", "pool_lock_reason",
    "updated_at",
]  # fmt: skip
TITLES = [
    "采购总监",
    "总经理",
    "财务总监",
    "技术总监",
    "采购经理",
    "项目经理",
    "行政主管",
    "副总裁",
]


@dataclass
class DemoContext:
    """What the per-app demo hooks (<app>/demo.py: seed(context)) receive."""

    rng: random.Random
    today: date
    users: dict[str, User]
    departments: dict[str, Department]
    customer_ids: list[int]
    stdout: object
    extra: dict = field(default_factory=dict)

    @property
    def with_history(self) -> bool:
        """Whether the hooks add a year of history made set-based (large demos)."""
        return len(self.customer_ids) >= HISTORY_FROM

    @property
    def named_departments(self) -> dict[str, Department]:
        """The departments of the named demo users, where the hand-made examples go."""
        return {code: self.departments[code] for code, _name in DEPARTMENTS}


@dataclass
class Team:
    """A department's account managers; at scale each book is about BOOK_SIZE customers."""

    department: Department
    regions: list[tuple[str, str]]
    managers: list[User]
    # Few customers: the named managers share them at random, as the small demo always did.
    scaled: bool
    assigned: int = 0

    def primary(self, rng: random.Random) -> User:
        if not self.scaled:
            return rng.choice(self.managers)
        manager = self.managers[self.assigned % len(self.managers)]
        self.assigned += 1
        return manager

    def assistant(self, rng: random.Random, primary: User) -> User | None:
        if not self.scaled:
            other = next((m for m in self.managers if m != primary), None)
            return other if rng.random() < 0.4 else None
        if rng.random() >= 0.4 or len(self.managers) < 2:
            return None
        position = self.managers.index(primary)
        return self.managers[(position + rng.randrange(1, len(self.managers))) % len(self.managers)]


def department_plan(count: int) -> list[tuple[str, str, list[tuple[str, str]], int]]:
    """Return (code, name, regions, customers) of each department of a demo of count customers.

    Two departments (east with two thirds, north with a third) up to twice
    CUSTOMERS_PER_DEPARTMENT; then one department per CUSTOMERS_PER_DEPARTMENT, round robin.
    """
    wanted = max(len(DEPARTMENTS), math.ceil(count / CUSTOMERS_PER_DEPARTMENT))
    specs = [(code, name, REGIONS[code]) for code, name in DEPARTMENTS]
    repeat = 0
    while len(specs) < wanted:
        for code, name, regions in EXTRA_DEPARTMENTS[: wanted - len(specs)]:
            if repeat:
                code = f"{code}{'bcdefghijk'[repeat - 1]}"
                name = name.replace("大客户部", f"大客户{ORDINALS[repeat - 1]}部")
            specs.append((code, name, regions))
        repeat += 1
    sizes = [0] * len(specs)
    for index in range(count):
        sizes[department_index(index, len(specs))] += 1
    return [(*spec, size) for spec, size in zip(specs, sizes, strict=True)]


def department_index(index: int, departments: int) -> int:
    """The department of the index-th new customer."""
    if departments == len(DEPARTMENTS):
        return 0 if index % 3 != 2 else 1
    return index % departments


def make_credit_code(rng: random.Random, serial: int) -> str:
    """Return a valid, unique-by-serial unified social credit code."""
    region = rng.choice(["310000", "320100", "330100", "110000", "120000", "130100"])
    body = "91" + region + f"{serial:08d}"
    body += CREDIT_CODE_ALPHABET[rng.randrange(31)]
    return body + credit_code_check_character(body)


def birthday(rng: random.Random) -> str:
    return f"{rng.randint(1965, 1995)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


class Command(BaseCommand):
    help = "Load a realistic demo: departments, one user per role, customers with history."

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=60)
        parser.add_argument("--password", help="password for every demo user (random if omitted)")
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--add", action="store_true", help="add customers to a non-empty db")
        parser.add_argument(
            "--if-empty", action="store_true", help="do nothing (successfully) if data exists"
        )
        parser.add_argument("--force", action="store_true", help="run even with DEBUG off")
        parser.add_argument(
            "--addr",
            default="127.0.0.1:8000",
            help="the address the server is started on (make passes ADDR), for the log-in URL",
        )

    def handle(self, *args, customers: int, password: str | None, seed: int, **options):
        if customers < 0 or customers > 1_000_000:
            raise CommandError("--customers must be between 0 and 1,000,000.")
        if not settings.DEBUG and not options["force"]:
            raise CommandError("DEBUG is off: refusing to load demo data (use --force).")
        has_data = Customer.objects.exists() or User.objects.exists()
        if has_data and options["if_empty"]:
            self.stdout.write("The database already has data; demo not loaded.")
            return
        if has_data and not options["add"]:
            raise CommandError("The database is not empty: use --add to add more demo customers.")

        rng = random.Random(seed)
        password = password or secrets.token_urlsafe(9)
        started = time.monotonic()
        with transaction.atomic():
            plan = department_plan(customers)
            departments, users, teams, created = self._people(password, plan, seed)
            # Memberships were written in bulk, past the signals: forget cached roles.
            permissions.roles_changed()
            start_serial = Customer.objects.count() + 1
            customer_ids = self._customers(rng, customers, teams, start_serial)
        managers = sum(len(team.managers) for team in teams.values())
        self.stdout.write(
            f"Organisation: {len(departments)} departments, {managers} account managers."
        )
        context = DemoContext(
            rng=rng,
            today=timezone.localdate(),
            users=users,
            departments=departments,
            customer_ids=customer_ids,
            stdout=self.stdout,
        )
        for app_config in apps.get_app_configs():
            try:
                module = importlib.import_module(f"{app_config.name}.demo")
            except ModuleNotFoundError as error:
                if error.name != f"{app_config.name}.demo":
                    raise
                continue
            began = time.monotonic()
            with transaction.atomic():
                module.seed(context)
            self.stdout.write(f"({app_config.label}: {time.monotonic() - began:.0f} s)")
        # Fresh statistics: the query planners otherwise guess on tables that grew from empty.
        # On PostgreSQL also VACUUM, which autovacuum would do later: until then the visibility
        # map is empty and no index-only scan pays (outside a transaction, as VACUUM must be).
        with connection.cursor() as cursor:
            vacuum = connection.vendor == "postgresql" and not connection.in_atomic_block
            cursor.execute("VACUUM ANALYZE" if vacuum else "ANALYZE")

        self.stdout.write(
            self.style.SUCCESS(
                f"Demo loaded: {len(customer_ids)} customers in {time.monotonic() - started:.0f} s."
            )
        )
        if created:
            self.stdout.write(f"Log in at {login_url(options['addr'])} as:")
            for username, *_rest in PEOPLE:
                self.stdout.write(f"  {username:<11} {password}")

    def _people(self, password: str, plan, seed: int):
        departments = {
            code: Department.objects.get_or_create(code=code, defaults={"name": name})[0]
            for code, name, _regions, _size in plan
        }
        users, created = {}, False
        # Hash once: PBKDF2 is deliberately slow, and every demo user shares the password.
        hashed = User(username="_")
        hashed.set_password(password)
        groups = {group.name: group for group in Group.objects.all()}
        for username, family, given, role, department_code, title in PEOPLE:
            user = User.objects.filter(username=username).first()
            if user is None:
                created = True
                user = User(
                    username=username,
                    last_name=family,
                    first_name=given,
                    title=title,
                    email=f"{username}@example.com",
                    department=departments.get(department_code),
                    is_staff=username == "admin",
                    is_superuser=username == "admin",
                )
                user.password = hashed.password
                user.save()
                if role:
                    user.groups.add(groups[role])
            users[username] = user
        users.update(self._generated_people(plan, departments, hashed.password, groups, seed))
        for code, department in departments.items():
            if department.head_id is None:
                department.head = users[f"head_{code}"]
                department.save(update_fields=["head"])
        teams = {}
        for code, _name, regions, size in plan:
            named = [users[name] for name in NAMED_MANAGERS.get(code, [])]
            wanted = max(len(named), math.ceil(size / BOOK_SIZE))
            generated = [users[f"am_{code}{n}"] for n in range(len(named) + 1, wanted + 1)]
            teams[code] = Team(
                department=departments[code],
                regions=regions,
                managers=named + generated,
                scaled=bool(generated),
            )
        return departments, users, teams, created

    def _generated_people(self, plan, departments, password_hash, groups, seed) -> dict:
        """Create the heads and account managers that a large demo needs beyond PEOPLE."""
        # A separate generator: the small demo's customers stay exactly as they were.
        rng = random.Random(f"{seed}-people")
        named_people = {username for username, *_rest in PEOPLE}
        wanted = []  # (username, role, department code, title)
        for code, name, _regions, size in plan:
            if f"head_{code}" not in named_people:
                wanted.append((f"head_{code}", Role.DEPARTMENT_HEAD, code, f"{name}经理"))
            named = len(NAMED_MANAGERS.get(code, []))
            for n in range(named + 1, math.ceil(size / BOOK_SIZE) + 1):
                wanted.append((f"am_{code}{n}", Role.ACCOUNT_MANAGER, code, "客户经理"))
        existing = User.objects.in_bulk(
            [username for username, *_rest in wanted], field_name="username"
        )
        new, roles = [], []
        for username, role, code, title in wanted:
            if username in existing:
                continue
            new.append(
                User(
                    username=username,
                    last_name=rng.choice(SURNAMES),
                    first_name=rng.choice(GIVEN),
                    title=title,
                    # No address: at scale the console back end would print thousands of
                    # e-mails of the demo's own notices; they stay in the app.
                    department=departments[code],
                    password=password_hash,
                )
            )
            roles.append(role)
        User.objects.bulk_create(new, batch_size=1000)
        created = {user.username: user for user in new}
        memberships = User.groups.through
        memberships.objects.bulk_create(
            memberships(user_id=user.pk, group_id=groups[role].pk)
            for user, role in zip(new, roles, strict=True)
        )
        return {**existing, **created}

    def _customers(self, rng, count, teams, start_serial) -> list[int]:
        team_list = list(teams.values())
        now = timezone.now()
        today = timezone.localdate()
        ids = next_ids(Customer, count)
        for offset in range(0, count, BATCH):
            batch = []
            for index in range(offset, min(count, offset + BATCH)):
                serial = start_serial + index
                team = team_list[department_index(index, len(team_list))]
                industry = rng.choice(list(INDUSTRY_WORDS))
                province, city = rng.choice(team.regions)
                name = (
                    f"{city}{rng.choice(NAME_WORDS)}{rng.choice(INDUSTRY_WORDS[industry])}有限公司"
                )
                if serial > 1:
                    name = name.replace("有限公司", f"（{serial}）有限公司")
                primary = team.primary(rng)
                status = rng.choices(
                    [CustomerStatus.ACTIVE, CustomerStatus.PROSPECT, CustomerStatus.DORMANT],
                    weights=[85, 10, 5],
                )[0]
                credit_code = make_credit_code(rng, serial)
                customer_type = rng.choices(
                    [CustomerType.ENTERPRISE, CustomerType.PARTNER, CustomerType.GOVERNMENT],
                    weights=[80, 10, 10],
                )[0]
                street = rng.choice(["人民路", "中山路", "解放路", "建设大道"])
                batch.append(
                    (
                        ids[index], name, name[len(city) : len(city) + 4],
                        credit_code, customer_type, industry, province, city,
                        f"{city}市{street}{rng.randint(1, 999)}号",
                        rng.choice(SourceChannel.values),
                        status, team.department.pk, primary.pk,
                        getattr(team.assistant(rng, primary), "pk", None),
                        rng.choice(CreditTerms.values),
                        rng.choice([0, 500_000, 1_000_000, 3_000_000]), primary.pk,
                        now - timedelta(days=rng.randint(400, 1500)),
                        now - timedelta(days=rng.randint(0, 120)),
                        "", "", "", False, "", now,
                    )
                )  # fmt: skip
            fast_insert(Customer, CUSTOMER_FIELDS, batch)
            self._contacts_and_transactions(rng, [(row[0], row[10]) for row in batch], today)
        reset_sequences(Customer)
        return list(ids)

    def _contacts_and_transactions(self, rng, customers, today) -> None:
        contacts, transactions = [], []
        decision_roles = DecisionRole.values
        # Dates as ISO text by days before today, and plain numbers: 2,000,000 rows of date
        # and Decimal objects cost minutes of adapting.
        days = {back: (today - timedelta(days=back)).isoformat() for back in range(-100, 800)}
        months = {back: day[:7].replace("-", "") for back, day in days.items()}
        random = rng.random
        due_in, paid_late = [0, 30, 60, 90], [-5, 0, 0, 0, 3, 20]
        for pk, status in customers:
            for position in range(3):
                contacts.append(
                    (
                        pk,
                        person_name(rng),
                        rng.choice(TITLES),
                        rng.choice(["采购部", "总经办", "财务部", "技术部"]),
                        DecisionRole.DECISION_MAKER
                        if position == 0
                        else rng.choice(decision_roles),
                        f"1{rng.choice('3589')}{rng.randint(100000000, 999999999)}",
                        f"contact{pk}_{position}@example.cn",
                        "",
                        birthday(rng),
                        position == 0,
                        True,
                    )
                )
            if status == CustomerStatus.PROSPECT:
                continue
            # Two years of purchases; a customer's size decides its volume.
            size = rng.choice([50_000, 150_000, 400_000, 1_000_000])
            # 22.5 in two years on average: 2,000,000 for 100,000 customers (a tenth are prospects).
            for _ in range(8 + int(random() * 30)):
                back = 1 + int(random() * 730)
                amount = int(size * (0.2 + 1.6 * random()))
                due = back - due_in[int(random() * 4)]
                paid = None
                if due > 0 or random() < 0.5:
                    paid = min(due - paid_late[int(random() * 6)], back)
                    if paid < 0:
                        paid = None
                profit_cents = int(amount * (5 + 25 * random()))
                transactions.append(
                    (
                        pk,
                        days[back],
                        amount,
                        f"{profit_cents // 100}.{profit_cents % 100:02d}",
                        days[due],
                        None if paid is None else days[paid],
                        f"SO{months[back]}{10000 + int(random() * 90000)}",
                    )
                )
        contact_fields = [
            "customer_id", "name", "title", "department", "decision_role", "phone", "email",
            "wechat", "birthday", "is_primary", "is_active",
        ]  # fmt: skip
        fast_insert(Contact, contact_fields, contacts)
        transaction_fields = [
            "customer_id", "date", "amount", "profit", "due_date", "paid_date", "reference",
        ]  # fmt: skip
        fast_insert(Transaction, transaction_fields, transactions)


def login_url(addr: str) -> str:
    """The log-in URL of a server started with runserver's addrport (a bare port as well)."""
    if addr.isdigit():
        addr = f"127.0.0.1:{addr}"
    return f"http://{addr}/login/"


def fast_insert(model, fields: list[str], rows: list[tuple]) -> None:
    """Insert plain rows with executemany: the ORM's bulk_create costs minutes at 10^6 rows.

    Only for the demo's own generated values; history records are not written for them.
    Datetimes must be aware; they are stored as Django stores them.
    """
    if not rows:
        return
    meta = model._meta
    columns = ", ".join(connection.ops.quote_name(meta.get_field(f).column) for f in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    table = connection.ops.quote_name(meta.db_table)
    sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            page_cache.rows_written(connection)  # COPY passes by Django's execute wrappers
            return
        moments = [
            position
            for position, name in enumerate(fields)
            if isinstance(meta.get_field(name), models.DateTimeField)
        ]
        if moments:
            # sqlite3 would keep the offset; Django stores naive UTC text.
            adapted = {}

            def adapt(value):
                if value not in adapted:
                    adapted[value] = connection.ops.adapt_datetimefield_value(value)
                return adapted[value]

            rows = [
                tuple(adapt(v) if i in moments else v for i, v in enumerate(row)) for row in rows
            ]
        for start in range(0, len(rows), BATCH * 4):
            cursor.executemany(sql, rows[start : start + BATCH * 4])


def next_ids(model, count: int) -> range:
    """Return primary keys for count rows about to be inserted with fast_insert.

    The demo runs alone, so the next keys after the largest are free; call
    reset_sequences afterwards for PostgreSQL's sequences.
    """
    last = model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    return range(last + 1, last + 1 + count)


def reset_sequences(*model_classes) -> None:
    """Move PostgreSQL's id sequences past the keys inserted explicitly (SQLite needs nothing)."""
    statements = connection.ops.sequence_reset_sql(no_style(), list(model_classes))
    if statements:
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
