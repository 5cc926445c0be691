"""Excel import of customers (with their contacts) and of transactions.

The flow: `inspect_upload` refuses hostile or broken files before openpyxl sees them,
`read_upload` turns the workbook into plain rows, `validate` checks every row against the
database (and the user's scope) and says in plain words what is wrong, the rows wait in a stash
file until the user commits, and `import_commit` writes them all in one transaction — after
validating them again, since the database may have changed since the preview.

Re-importing a file does not duplicate anything: customers match on credit code, then on
exact name; contacts on (customer, name); transactions on (customer, reference) or, without a
reference, on (customer, date, amount).
"""

from __future__ import annotations

import datetime
import functools
import json
import os
import re
import secrets
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from zlib import error as zlib_error

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models, transaction
from django.http import Http404
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from . import permissions, services
from .errors import BusinessRuleError
from .models import (
    Contact,
    CreditTerms,
    Customer,
    CustomerStatus,
    CustomerType,
    DataTransferLog,
    DecisionRole,
    Department,
    Industry,
    ManagerRole,
    SourceChannel,
    Tier,
    Transaction,
    TransferKind,
    User,
)
from .selectors import duplicate_outside_scope
from .validators import normalize_credit_code, validate_credit_code
from .xlsx_reader import ImportRefused, inspect_upload
from .xlsx_reader import XlsxWorkbook as _Workbook

HEADER_SEARCH_ROWS = 10


def _setting(name: str, default):
    return getattr(settings, name, default)


class ImportKind(models.TextChoices):
    CUSTOMERS = "customers", gettext_lazy("Customers and their contacts")
    TRANSACTIONS = "transactions", gettext_lazy("Transactions")


# --- Columns --------------------------------------------------------------------------------

TEXT, CHOICE, DATE, MONEY, BOOL, IGNORED, USER, DEPARTMENT, CREDIT_CODE = (
    "text",
    "choice",
    "date",
    "money",
    "bool",
    "ignored",
    "user",
    "department",
    "credit_code",
)


@dataclass(frozen=True)
class Field:
    """A column an import understands: its key, header (lazy), type and other spellings."""

    key: str
    header: Any
    kind: str = TEXT
    aliases: tuple[str, ...] = ()
    required: bool = False
    choices: type[models.TextChoices] | None = None
    width: int = 14
    # Fields an import may not write: ALWAYS (each has its own service: status, tier and
    # score, credit), or ON_EXISTING (set on a new customer, changed only by assignment).
    guarded: str = ""


ALWAYS, ON_EXISTING = "always", "existing"


CUSTOMER_FIELDS = [
    Field("name", gettext_lazy("Name"), required=True, width=36,
          aliases=("客户名称", "名称", "客户名", "客户", "公司名称", "customer name", "customer")),
    Field("short_name", gettext_lazy("Short name"), aliases=("简称", "客户简称")),
    Field("credit_code", gettext_lazy("Credit code"), CREDIT_CODE, width=22,
          aliases=("统一社会信用代码", "信用代码", "社会信用代码", "unified social credit code")),
    Field("customer_type", gettext_lazy("Customer type"), CHOICE, choices=CustomerType,
          aliases=("客户类型", "类型", "type")),
    Field("industry", gettext_lazy("Industry"), CHOICE, choices=Industry,
          aliases=("行业", "所属行业")),
    Field("province", gettext_lazy("Province"), aliases=("省份", "省", "地区", "区域", "region")),
    Field("city", gettext_lazy("City"), aliases=("城市", "市")),
    Field("address", gettext_lazy("Address"), width=30, aliases=("地址", "详细地址")),
    Field("source_channel", gettext_lazy("Source channel"), CHOICE, choices=SourceChannel,
          aliases=("来源渠道", "客户来源", "来源", "source")),
    Field("status", gettext_lazy("Status"), CHOICE, choices=CustomerStatus,
          aliases=("状态", "客户状态"), guarded=ALWAYS),
    Field("department", gettext_lazy("Department"), DEPARTMENT, aliases=("部门", "所属部门"),
          guarded=ON_EXISTING),
    Field("primary_manager", gettext_lazy("Primary manager"), USER,
          aliases=("客户经理", "主客户经理", "主办客户经理", "manager"), guarded=ON_EXISTING),
    Field("assistant_manager", gettext_lazy("Assistant manager"), USER,
          aliases=("辅助客户经理", "协办客户经理", "副客户经理"), guarded=ON_EXISTING),
    Field("tier", gettext_lazy("Tier"), CHOICE, choices=Tier, aliases=("等级", "客户等级"),
          guarded=ALWAYS),
    Field("score", gettext_lazy("Score"), MONEY, aliases=("得分", "评分"), guarded=ALWAYS),
    Field("credit_terms", gettext_lazy("Credit terms"), CHOICE, choices=CreditTerms,
          aliases=("信用条件", "结算方式", "付款方式"), guarded=ALWAYS),
    Field("credit_limit", gettext_lazy("Credit limit"), MONEY, aliases=("信用额度", "授信额度"),
          guarded=ALWAYS),
    Field("notes", gettext_lazy("Notes"), width=30, aliases=("备注",)),
]  # fmt: skip

CONTACT_FIELDS = [
    Field("customer_name", gettext_lazy("Customer"), width=36,
          aliases=("客户", "客户名称", "customer name")),
    Field("customer_credit_code", gettext_lazy("Customer credit code"), CREDIT_CODE, width=22,
          aliases=("客户统一社会信用代码", "客户信用代码", "统一社会信用代码", "信用代码")),
    Field("name", gettext_lazy("Contact name"), required=True,
          aliases=("联系人", "联系人姓名", "姓名", "name")),
    Field("title", gettext_lazy("Title"), aliases=("职务", "职位")),
    Field("department", gettext_lazy("Contact department"), aliases=("联系人部门", "部门")),
    Field("decision_role", gettext_lazy("Role in the decision"), CHOICE, choices=DecisionRole,
          aliases=("决策角色", "角色")),
    Field("phone", gettext_lazy("Phone"), aliases=("电话", "手机", "联系电话", "mobile")),
    Field("email", gettext_lazy("E-mail"), width=26, aliases=("邮箱", "电子邮件", "email")),
    Field("wechat", gettext_lazy("WeChat"), aliases=("微信", "微信号")),
    Field("birthday", gettext_lazy("Birthday"), DATE, aliases=("生日", "出生日期")),
    Field("is_primary", gettext_lazy("Primary contact"), BOOL,
          aliases=("主要联系人", "首要联系人", "primary")),
]  # fmt: skip

TRANSACTION_FIELDS = [
    Field("customer_name", gettext_lazy("Customer"), width=36,
          aliases=("客户", "客户名称", "customer name")),
    Field("customer_credit_code", gettext_lazy("Customer credit code"), CREDIT_CODE, width=22,
          aliases=("客户统一社会信用代码", "客户信用代码", "统一社会信用代码", "信用代码")),
    Field("date", gettext_lazy("Date"), DATE, required=True, aliases=("日期", "交易日期")),
    Field("amount", gettext_lazy("Amount"), MONEY, required=True,
          aliases=("金额", "交易金额", "销售额")),
    Field("profit", gettext_lazy("Profit"), MONEY, aliases=("利润", "毛利")),
    Field("due_date", gettext_lazy("Payment due date"), DATE,
          aliases=("付款到期日", "到期日", "应付款日期", "应收日期")),
    Field("paid_date", gettext_lazy("Paid on"), DATE,
          aliases=("付款日期", "回款日期", "实际付款日期")),
    Field("reference", gettext_lazy("Reference"), width=18,
          aliases=("单号", "参考号", "订单号", "凭证号")),
]  # fmt: skip

SHEETS = {
    "customers": CUSTOMER_FIELDS,
    "contacts": CONTACT_FIELDS,
    "transactions": TRANSACTION_FIELDS,
}
SHEET_TITLES = {
    "customers": gettext_lazy("Customers"),
    "contacts": gettext_lazy("Contacts"),
    "transactions": gettext_lazy("Transactions"),
}


GUARDED_MESSAGES = {
    "status": lambda: _(
        "an import does not set a status: new customers are prospects and go through "
        "admission; leave this column empty"
    ),
    "tier": lambda: _("the tier is set only by a published grading run; leave this column empty"),
    "score": lambda: _("the score is set only by a published grading run; leave this column empty"),
    "credit_terms": lambda: _(
        "credit terms change only through a credit request; leave this column empty"
    ),
    "credit_limit": lambda: _(
        "the credit limit changes only through a credit request; leave this column empty"
    ),
    "department": lambda: _(
        "an import does not move a customer to another department; leave this cell empty"
    ),
    "primary_manager": lambda: _(
        "an import does not change an existing customer's managers; use the assignment page"
    ),
    "assistant_manager": lambda: _(
        "an import does not change an existing customer's managers; use the assignment page"
    ),
}


def _normalise_header(text: Any) -> str:
    text = str(text or "").strip().lower()
    return re.sub(r"[\s*＊:：()（）_\-]", "", text)


def _in_every_language(text) -> set[str]:
    found = set()
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            found.add(str(text))
    return found


def header_map(fields: Sequence[Field]) -> dict[str, Field]:
    """Map every accepted spelling of every header (both languages, aliases) to its field."""
    mapping: dict[str, Field] = {}
    for spec in fields:
        for spelling in (spec.key, *_in_every_language(spec.header), *spec.aliases):
            mapping.setdefault(_normalise_header(spelling), spec)
    # A field's own header wins over another field's alias.
    for spec in fields:
        for spelling in _in_every_language(spec.header):
            mapping[_normalise_header(spelling)] = spec
    return mapping


def choice_lookup(choices: type[models.TextChoices]) -> dict[str, str]:
    """Map each choice's value and label (in every language) to the value."""
    lookup = {}
    for value, label in choices.choices:
        lookup[value.lower()] = value
        for text in _in_every_language(label):
            lookup[text.strip().lower()] = value
    return lookup


# --- Reading --------------------------------------------------------------------------------


@dataclass
class Sheet:
    """The raw rows of one sheet: JSON-safe values, keyed by field, with the header texts."""

    kind: str
    title: str
    headers: list[str]  # original header texts of the recognised columns
    keys: list[str]  # field key per recognised column
    rows: list[dict] = field(default_factory=list)  # {"n": row number, "v": [values]}


def read_upload(upload, kind: str) -> list[Sheet]:
    """Read the workbook's cells (formulas as their text, never evaluated) into plain rows."""
    from lxml import etree

    upload.seek(0)
    wanted = ["customers", "contacts"] if kind == ImportKind.CUSTOMERS else ["transactions"]
    sheets: list[Sheet] = []
    try:
        with zipfile.ZipFile(upload) as archive:
            workbook = _Workbook(archive)
            for title, path, state in workbook.sheets:
                if state in ("hidden", "veryHidden"):
                    continue
                remaining = [w for w in wanted if w not in {s.kind for s in sheets}]
                if not remaining:
                    break
                found = _read_sheet(title, workbook.rows(path), remaining)
                if found is not None:
                    sheets.append(found)
    except ImportRefused:
        raise
    except (etree.XMLSyntaxError, zipfile.BadZipFile, KeyError, ValueError, OSError,
            EOFError, RuntimeError, zlib_error) as error:  # fmt: skip
        raise ImportRefused(
            _("The workbook could not be read (%(reason)s). Save it again as .xlsx and retry.")
            % {"reason": type(error).__name__}
        ) from error
    main = wanted[0]
    if not sheets:  # a customer import may also hold only contacts
        required = ", ".join(str(f.header) for f in SHEETS[main] if f.required)
        raise ImportRefused(
            _(
                "No sheet has the expected header row. The first row must name the columns; "
                "required: %(required)s. Download the template to see them."
            )
            % {"required": required}
        )
    if not any(sheet.rows for sheet in sheets):
        raise ImportRefused(_("The file has a header row but no data rows."))
    return sheets


def _read_sheet(title: str, rows, wanted: list[str]) -> Sheet | None:
    max_rows = _setting("IMPORT_MAX_ROWS", 20_000)
    header_row, sheet_kind, mapping = None, None, {}
    maps = {candidate: header_map(SHEETS[candidate]) for candidate in wanted}
    for number, values in rows:
        if number > HEADER_SEARCH_ROWS:
            return None
        texts = {i: _normalise_header(v) for i, v in values.items() if isinstance(v, str)}
        best = 0
        # The kind of sheet whose columns this header row names best (a contacts sheet has a
        # "Customer" column, which a customer sheet would also accept as its name).
        for candidate in wanted:
            fields = maps[candidate]
            recognised = {i: fields[t] for i, t in texts.items() if t in fields}
            keys = {spec.key for spec in recognised.values()}
            if (
                all(f.key in keys for f in SHEETS[candidate] if f.required)
                and (candidate != "contacts" or keys & {"customer_name", "customer_credit_code"})
                and len(keys) > best
            ):
                best, header_row, sheet_kind = len(keys), number, candidate
                mapping = {}
                for index in sorted(recognised):
                    mapping.setdefault(recognised[index].key, (index, values[index].strip()))
        if header_row:
            break
    if header_row is None:
        return None
    columns = sorted(mapping.items(), key=lambda item: item[1][0])
    sheet = Sheet(
        kind=sheet_kind,
        title=title,
        headers=[header for _key, (_i, header) in columns],
        keys=[key for key, _rest in columns],
    )
    indexes = [index for _key, (index, _h) in columns]
    for number, values in rows:
        picked = [values.get(i) for i in indexes]
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in picked):
            continue
        if len(sheet.rows) >= max_rows:
            raise ImportRefused(
                _(
                    "The sheet “%(sheet)s” has more than %(max)s rows; the limit is %(max)s rows "
                    "per sheet. Split the file into smaller ones."
                )
                % {"sheet": title, "max": f"{max_rows:,}"}
            )
        sheet.rows.append({"n": number, "v": picked})
    return sheet


# --- Converting cell values -----------------------------------------------------------------


MODEL_CHECK_SKIP = {"credit_code", "credit_limit", "amount"}


class CellError(Exception):
    pass


DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d", "%d.%m.%Y")
TRUE_WORDS = {"1", "true", "yes", "y", "是", "√", "✓", "x", "primary", "主要"}
FALSE_WORDS = {"0", "false", "no", "n", "否", ""}


def as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):
        if "f" in value:
            raise CellError(
                _(
                    "the cell holds a formula (%(formula)s); formulas are not evaluated, "
                    "enter the value itself"
                )
                % {"formula": value["f"][:40]}
            )
        return value["d"]
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def as_date(value: Any) -> datetime.date | None:
    if isinstance(value, dict) and "d" in value:
        return datetime.date.fromisoformat(value["d"])
    text = as_text(value)
    if not text:
        return None
    for fmt in DATE_FORMATS:
        try:
            return datetime.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise CellError(_("“%(value)s” is not a date (write it as 2026-03-31)") % {"value": text})


def as_money(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        raise CellError(_("“%(value)s” is not an amount") % {"value": value})
    if isinstance(value, int | float):
        number = Decimal(str(value))
    else:
        text = as_text(value)
        if not text:
            return None
        cleaned = re.sub(r"[¥￥,，\s元]|RMB|CNY", "", text, flags=re.IGNORECASE)
        try:
            number = Decimal(cleaned)
        except InvalidOperation as error:
            raise CellError(_("“%(value)s” is not an amount") % {"value": text}) from error
    if not number.is_finite():
        raise CellError(_("“%(value)s” is not an amount") % {"value": value})
    if abs(number) >= Decimal("1e12"):
        raise CellError(_("the amount %(value)s is too large") % {"value": number})
    return number.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = as_text(value).lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise CellError(_("“%(value)s” is neither yes nor no") % {"value": text})


# --- Validation -----------------------------------------------------------------------------


@dataclass
class Row:
    sheet: str
    number: int
    values: list[Any]
    data: dict[str, Any] = field(default_factory=dict)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (column header, message)
    warnings: list[tuple[str, str]] = field(default_factory=list)
    action: str = ""  # create / update / unchanged
    instance: Any = None
    changed_fields: list[str] = field(default_factory=list)
    label: str = ""
    guarded: bool = False  # it tries to write a field an import may not write

    def error(self, column: str, message: str) -> None:
        self.errors.append((column, message))

    def refuse(self, column: str, message: str) -> None:
        """An error that keeps the whole file from being imported, not just this row."""
        self.guarded = True
        self.error(column, message)

    @property
    def ok(self) -> bool:
        return not self.errors


class Validator:
    """Check the rows of one upload against the database and the user's scope."""

    def __init__(self, user: User, kind: str):
        self.user = user
        self.kind = kind
        self.is_admin = permissions.is_admin(user)
        self.headed = set(permissions.headed_department_ids(user))
        self.choice_maps = {
            spec.key: choice_lookup(spec.choices)
            for fields in SHEETS.values()
            for spec in fields
            if spec.kind == CHOICE
        }
        self.departments: dict[str, Department] = {}
        for department in Department.objects.all():
            self.departments[department.name.strip().lower()] = department
            self.departments[department.code.lower()] = department
        self.departments_by_id = {d.pk: d for d in self.departments.values()}
        self.staff: dict[str, User] = {}
        roles: dict[int, set[str]] = defaultdict(set)
        for user_id, group in User.groups.through.objects.values_list("user_id", "group__name"):
            roles[user_id].add(group)
        full_names: dict[str, list[User]] = defaultdict(list)
        for person in User.objects.filter(is_active=True):
            # The rule functions ask permissions for a person's roles: one query for all.
            person._role_names = frozenset(roles.get(person.pk, ()))
            self.staff[person.username.lower()] = person
            if person.get_full_name():
                full_names[person.get_full_name().lower()].append(person)
        for name, people in full_names.items():
            if len(people) == 1:
                self.staff.setdefault(name, people[0])

    # Scope ----------------------------------------------------------------------------------

    def may_edit(self, customer: Customer) -> bool:
        return permissions.can_edit_customer(self.user, customer)  # the customer page's rule

    # Shared helpers -------------------------------------------------------------------------

    def _convert(self, row: Row, sheet: Sheet) -> None:
        fields = {spec.key: spec for spec in SHEETS[sheet.kind]}
        for key, header, value in zip(sheet.keys, sheet.headers, row.values, strict=True):
            spec = fields[key]
            try:
                row.data[key] = self._value(spec, value)
            except CellError as error:
                row.error(header, str(error))
        for spec in SHEETS[sheet.kind]:
            header = self._header(sheet, spec.key)
            if (
                spec.required
                and not row.data.get(spec.key)
                and not any(h == header for h, _m in row.errors)
            ):
                row.error(self._header(sheet, spec.key), _("this column is required"))

    @staticmethod
    def _header(sheet: Sheet, key: str) -> str:
        if key in sheet.keys:
            return sheet.headers[sheet.keys.index(key)]
        spec = next(s for s in SHEETS[sheet.kind] if s.key == key)
        return str(spec.header)

    def _value(self, spec: Field, value: Any) -> Any:
        if spec.kind == IGNORED:
            return None
        if spec.kind == DATE:
            return as_date(value)
        if spec.kind == MONEY:
            return as_money(value)
        if spec.kind == BOOL:
            return as_bool(value)
        text = as_text(value)
        if spec.kind == CREDIT_CODE:
            return normalize_credit_code(text)
        if spec.kind == CHOICE:
            if not text:
                return None
            found = self.choice_maps[spec.key].get(text.lower())
            if found is None:
                labels = ", ".join(str(label) for _v, label in spec.choices.choices)
                raise CellError(
                    _("“%(value)s” is not one of: %(labels)s") % {"value": text, "labels": labels}
                )
            return found
        if spec.kind == USER:
            if not text:
                return None
            person = self.staff.get(text.lower())
            if person is None:
                raise CellError(
                    _("unknown manager “%(value)s” (use the username)") % {"value": text}
                )
            return person
        if spec.kind == DEPARTMENT:
            if not text:
                return None
            department = self.departments.get(text.lower())
            if department is None:
                raise CellError(_("unknown department “%(value)s”") % {"value": text})
            return department
        return text

    def _model_errors(self, row: Row, sheet: Sheet, instance: models.Model, keys) -> None:
        """The model's own field rules that an import can break: lengths and e-mail format.

        (Not clean_fields(): it costs a query per relation and twice the time. Relations,
        amounts, choices and credit codes are checked above with plainer messages.)
        """
        for name, max_length, is_email in _text_rules(type(instance)):
            if name not in keys:
                continue
            value = getattr(instance, name) or ""
            header = self._header(sheet, name) if name in sheet.keys else name
            if max_length and len(value) > max_length:
                row.error(
                    header,
                    _("at most %(max)d characters (this has %(count)d)")
                    % {"max": max_length, "count": len(value)},
                )
            elif is_email and value:
                try:
                    validate_email(value)
                except ValidationError:
                    row.error(header, _("“%(value)s” is not an e-mail address") % {"value": value})

    # Customers ------------------------------------------------------------------------------

    def validate(self, sheets: list[Sheet]) -> dict[str, list[Row]]:
        result: dict[str, list[Row]] = {}
        by_kind = {sheet.kind: sheet for sheet in sheets}
        if "customers" in by_kind:
            result["customers"] = self._customers(by_kind["customers"])
        if "contacts" in by_kind:
            result["contacts"] = self._contacts(by_kind["contacts"], result.get("customers", []))
        if "transactions" in by_kind:
            result["transactions"] = self._transactions(by_kind["transactions"])
        return result

    def _existing_customers(self, codes: Iterable[str], names: Iterable[str]):
        by_code: dict[str, Customer] = {}
        by_name: dict[str, list[Customer]] = defaultdict(list)
        for chunk in _chunks(sorted(set(filter(None, codes))), 500):
            for customer in Customer.objects.filter(credit_code__in=chunk):
                by_code[customer.credit_code] = customer
        for chunk in _chunks(sorted(set(filter(None, names))), 500):
            for customer in Customer.objects.filter(name__in=chunk):
                by_name[customer.name].append(customer)
        return by_code, by_name

    def _match(self, by_code, by_name, code: str, name: str) -> tuple[Customer | None, str]:
        """Return the existing customer a row means, or an error message if it is ambiguous."""
        if code and code in by_code:
            return by_code[code], ""
        same_name = by_name.get(name, [])
        if not same_name:
            return None, ""
        if len(same_name) > 1:
            return None, _(
                "%(count)d existing customers are named “%(name)s”; give the credit code"
            ) % {  # noqa: E501
                "count": len(same_name),
                "name": name,
            }
        existing = same_name[0]
        if code and existing.credit_code and existing.credit_code != code:
            if not self._visible(existing):
                return None, duplicate_outside_scope(
                    self.departments_by_id.get(existing.department_id)
                )
            return None, _(
                "duplicate of an existing customer: “%(name)s” already exists with credit code "
                "%(code)s"
            ) % {"name": name, "code": existing.credit_code}
        return existing, ""

    def _customers(self, sheet: Sheet) -> list[Row]:
        rows = [Row("customers", r["n"], r["v"]) for r in sheet.rows]
        for row in rows:
            self._convert(row, sheet)
        by_code, by_name = self._existing_customers(
            (r.data.get("credit_code") for r in rows), (r.data.get("name") for r in rows)
        )
        seen_codes: dict[str, int] = {}
        seen_names: dict[str, int] = {}
        header = lambda key: self._header(sheet, key)  # noqa: E731
        for row in rows:
            data = row.data
            name, code = data.get("name") or "", data.get("credit_code") or ""
            row.label = name
            if code:
                try:
                    validate_credit_code(code)
                except ValidationError as error:
                    row.error(
                        header("credit_code"), _("bad credit code: ") + " ".join(error.messages)
                    )
                if code in seen_codes:
                    row.error(
                        header("credit_code"),
                        _("duplicate of row %(row)d (same credit code)")
                        % {"row": seen_codes[code]},
                    )
                else:
                    seen_codes[code] = row.number
            if name:
                if name in seen_names:
                    row.error(
                        header("name"),
                        _("duplicate of row %(row)d (same name)") % {"row": seen_names[name]},
                    )
                else:
                    seen_names[name] = row.number
            if not name:
                continue
            existing, problem = self._match(by_code, by_name, code, name)
            if problem:
                row.error(header("name"), problem)
                continue
            if existing is not None:
                self._customer_update(row, sheet, existing)
            else:
                self._customer_new(row, sheet)
        return rows

    def _customer_new(self, row: Row, sheet: Sheet) -> None:
        data, user = row.data, self.user
        header = lambda key: self._header(sheet, key)  # noqa: E731
        self._refuse_guarded(row, sheet, None)
        department = data.get("department")
        if department is None:
            if user.department_id and not self.is_admin:
                department = user.department
            else:
                row.error(header("department"), _("this column is required"))
                return
        primary = data.get("primary_manager")
        assistant = data.get("assistant_manager")
        if not self.is_admin:
            if permissions.is_department_head(user) and department.pk in self.headed:
                pass
            elif permissions.is_account_manager(user) and department.pk == user.department_id:
                if primary is None and assistant != user:
                    primary = user
                if user not in (primary, assistant):
                    row.error(
                        header("primary_manager"),
                        _("you may only import customers you manage: put yourself (%(me)s) as "
                          "primary or assistant manager") % {"me": user.username},
                    )  # fmt: skip
            else:
                row.error(
                    header("department"),
                    _("you may not import customers into department “%(department)s”")
                    % {"department": department.name},
                )
                return
        # The assignment page's rule (customer_assign_manager, the customer form).
        for key, person, other in (
            ("primary_manager", primary, None),
            ("assistant_manager", assistant, primary),
        ):
            try:
                services.check_assignee(
                    department_id=department.pk,
                    role=ManagerRole(key),
                    user=person,
                    actor=user,
                    other_user_id=other.pk if other is not None else None,
                )
            except BusinessRuleError as error:
                row.error(header(key), error.message)
        customer = Customer(
            name=data["name"],
            short_name=data.get("short_name") or "",
            credit_code=data.get("credit_code") or "",
            customer_type=data.get("customer_type") or CustomerType.ENTERPRISE,
            industry=data.get("industry") or Industry.OTHER,
            province=data.get("province") or "",
            city=data.get("city") or "",
            address=data.get("address") or "",
            source_channel=data.get("source_channel") or SourceChannel.OTHER,
            status=CustomerStatus.PROSPECT,  # admitted only through admission
            department=department,
            primary_manager=primary,
            assistant_manager=assistant,
            notes=data.get("notes") or "",
            created_by=user,
        )
        self._model_errors(row, sheet, customer, set(sheet.keys) - {"credit_code"})
        row.action, row.instance = "create", customer

    def _refuse_guarded(self, row: Row, sheet: Sheet, customer: Customer | None) -> None:
        """Refuse every value of a guarded column that would write something (the whole file
        is then refused). On an existing customer a value equal to the archive writes nothing;
        a status never passes: an import admits nobody."""
        for spec in SHEETS["customers"]:
            if not spec.guarded or spec.key not in sheet.keys:
                continue
            value = row.data.get(spec.key)
            if value in (None, ""):
                continue
            if spec.guarded == ON_EXISTING and customer is None:
                continue  # a new customer's department and managers: checked as the form does
            if customer is not None and spec.key != "status":
                current = getattr(customer, f"{spec.key}_id" if spec.kind in (USER, DEPARTMENT)
                                  else spec.key)  # fmt: skip
                if current == getattr(value, "pk", value):
                    continue
            row.refuse(self._header(sheet, spec.key), GUARDED_MESSAGES[spec.key]())

    UPDATABLE = (
        "name",
        "short_name",
        "credit_code",
        "customer_type",
        "industry",
        "province",
        "city",
        "address",
        "source_channel",
        "notes",
    )

    def _customer_update(self, row: Row, sheet: Sheet, customer: Customer) -> None:
        header = lambda key: self._header(sheet, key)  # noqa: E731
        if not self.may_edit(customer):
            if self._visible(customer):
                problem = _("matches an existing customer (%(name)s) that you may not change") % {
                    "name": customer.name
                }
            else:
                problem = duplicate_outside_scope(
                    self.departments_by_id.get(customer.department_id)
                )
            row.error(header("name"), problem)
            return
        self._refuse_guarded(row, sheet, customer)
        data = row.data
        changed = []
        for key in self.UPDATABLE:
            value = data.get(key)
            if key not in sheet.keys or value in (None, ""):
                continue  # a blank cell leaves the archive as it is
            if key == "credit_code" and customer.credit_code:
                continue
            if getattr(customer, key) != value:
                setattr(customer, key, value)
                changed.append(key)
        self._model_errors(row, sheet, customer, set(changed))
        row.instance, row.changed_fields = customer, changed
        row.action = "update" if changed else "unchanged"

    # Contacts -------------------------------------------------------------------------------

    def _customer_for_child(self, row, sheet, customer_rows, lookups) -> Customer | None:
        """Resolve a child row's customer: a row of this file, or an existing customer."""
        code = row.data.get("customer_credit_code") or ""
        name = row.data.get("customer_name") or ""
        key_header = self._header(sheet, "customer_credit_code" if code else "customer_name")
        if not code and not name:
            row.error(self._header(sheet, "customer_name"), _("name the customer"))
            return None
        by_code_rows, by_name_rows = customer_rows
        parent = (by_code_rows.get(code) if code else None) or by_name_rows.get(name)
        if parent is not None:
            if not parent.ok:
                row.error(
                    key_header,
                    _("its customer (row %(row)d) has errors") % {"row": parent.number},
                )
                return None
            return parent.instance
        by_code, by_name = lookups
        existing, problem = self._match(by_code, by_name, code, name)
        if problem:
            row.error(key_header, problem)
            return None
        if existing is None or not self._visible(existing):
            row.error(
                key_header,
                _("unknown customer “%(customer)s”") % {"customer": code or name},
            )
            return None
        if not self.may_edit(existing):
            row.error(
                key_header,
                _("you may not change customer “%(customer)s”") % {"customer": existing.name},
            )
            return None
        return existing

    def _visible(self, customer: Customer) -> bool:
        if permissions.sees_everything(self.user):
            return True
        return (
            self.user.pk
            in (
                customer.primary_manager_id,
                customer.assistant_manager_id,
                customer.chief_manager_id,
            )
            or customer.department_id in self.headed
        )

    def _contacts(self, sheet: Sheet, customer_rows: list[Row]) -> list[Row]:
        rows = [Row("contacts", r["n"], r["v"]) for r in sheet.rows]
        for row in rows:
            self._convert(row, sheet)
        by_code_rows = {
            r.data["credit_code"]: r for r in customer_rows if r.data.get("credit_code")
        }
        by_name_rows = {r.data["name"]: r for r in customer_rows if r.data.get("name")}
        lookups = self._existing_customers(
            (r.data.get("customer_credit_code") for r in rows),
            (r.data.get("customer_name") for r in rows),
        )
        parents = {}
        for row in rows:
            parents[row.number] = self._customer_for_child(
                row, sheet, (by_code_rows, by_name_rows), lookups
            )
        existing_ids = {p.pk for p in parents.values() if p is not None and p.pk}
        existing: dict[tuple[int, str], Contact] = {}
        for chunk in _chunks(sorted(existing_ids), 500):
            for contact in Contact.objects.filter(customer_id__in=chunk):
                existing.setdefault((contact.customer_id, contact.name), contact)
        seen: dict[tuple[int, str], int] = {}
        primaries: dict[int, int] = {}
        for row in rows:
            parent = parents[row.number]
            data = row.data
            row.label = data.get("name") or ""
            if parent is None or not data.get("name"):
                continue
            key = (parent.pk or f"new-{id(parent)}", data["name"])
            if key in seen:
                row.error(
                    self._header(sheet, "name"),
                    _("duplicate of row %(row)d (same contact of the same customer)")
                    % {"row": seen[key]},
                )
                continue
            seen[key] = row.number
            if data.get("is_primary"):
                if key[0] in primaries:
                    row.error(
                        self._header(sheet, "is_primary"),
                        _("row %(row)d is already this customer's primary contact")
                        % {"row": primaries[key[0]]},
                    )
                primaries[key[0]] = row.number
            values = {
                "name": data["name"],
                "title": data.get("title") or "",
                "department": data.get("department") or "",
                "decision_role": data.get("decision_role") or DecisionRole.USER,
                "phone": data.get("phone") or "",
                "email": data.get("email") or "",
                "wechat": data.get("wechat") or "",
                "birthday": data.get("birthday"),
                "is_primary": bool(data.get("is_primary")),
            }
            contact = existing.get((parent.pk, data["name"])) if parent.pk else None
            if contact is None:
                contact = Contact(customer=parent, **values)
                row.action = "create"
                self._model_errors(row, sheet, contact, set(values))
            else:
                changed = []
                for name, value in values.items():
                    if name not in sheet.keys or value in (None, ""):
                        continue
                    if getattr(contact, name) != value:
                        setattr(contact, name, value)
                        changed.append(name)
                row.changed_fields = changed
                row.action = "update" if changed else "unchanged"
                self._model_errors(row, sheet, contact, set(changed))
            row.instance = contact
        return rows

    # Transactions ---------------------------------------------------------------------------

    def _transactions(self, sheet: Sheet) -> list[Row]:
        rows = [Row("transactions", r["n"], r["v"]) for r in sheet.rows]
        for row in rows:
            self._convert(row, sheet)
        lookups = self._existing_customers(
            (r.data.get("customer_credit_code") for r in rows),
            (r.data.get("customer_name") for r in rows),
        )
        parents = {
            row.number: self._customer_for_child(row, sheet, ({}, {}), lookups) for row in rows
        }
        ids = sorted({p.pk for p in parents.values() if p is not None})
        by_reference: dict[tuple[int, str], Transaction] = {}
        by_value: dict[tuple[int, datetime.date, Decimal], Transaction] = {}
        for chunk in _chunks(ids, 500):
            for record in Transaction.objects.filter(customer_id__in=chunk):
                if record.reference:
                    by_reference.setdefault((record.customer_id, record.reference), record)
                by_value.setdefault((record.customer_id, record.date, record.amount), record)
        seen: dict[tuple, int] = {}
        from contracts.services import prepaid_delivery_check  # 先款后货

        prepaid_used: dict[int, Decimal] = defaultdict(Decimal)
        header = lambda key: self._header(sheet, key)  # noqa: E731
        for row in rows:
            data = row.data
            parent = parents[row.number]
            amount, day = data.get("amount"), data.get("date")
            if amount is not None and amount < 0:
                row.error(header("amount"), _("the amount is negative"))
            due, paid = data.get("due_date"), data.get("paid_date")
            for name, message in services.transaction_field_errors(
                date=day, amount=amount, profit=data.get("profit"), due_date=due, paid_date=paid
            ):
                row.error(header(name), message)
            if parent is None or amount is None or day is None:
                continue
            row.label = f"{parent.name} {day:%Y-%m-%d}"
            reference = data.get("reference") or ""
            key = (parent.pk, "ref", reference) if reference else (parent.pk, day, amount)
            if key in seen:
                row.error(
                    header("reference") if reference else header("date"),
                    _("duplicate of row %(row)d") % {"row": seen[key]},
                )
                continue
            seen[key] = row.number
            values = {
                "date": day,
                "amount": amount,
                "profit": data.get("profit") or Decimal("0"),
                "due_date": due,
                "paid_date": paid,
                "reference": reference,
            }
            record = (
                by_reference.get((parent.pk, reference))
                if reference
                else by_value.get((parent.pk, day, amount))
            )
            if record is None:
                record = Transaction(customer=parent, created_by=self.user, **values)
                row.action = "create"
                self._model_errors(row, sheet, record, set(values))
                # The form's prepaid rule (先款后货); earlier rows count as used.
                try:
                    prepaid_delivery_check(record=record, pending=prepaid_used[parent.pk])
                except BusinessRuleError as error:
                    row.error(header("amount"), error.message)
                else:
                    prepaid_used[parent.pk] += amount
            else:
                changed = [
                    name
                    for name, value in values.items()
                    if name in sheet.keys and getattr(record, name) != value
                ]
                for name in changed:
                    setattr(record, name, values[name])
                row.changed_fields = changed
                row.action = "update" if changed else "unchanged"
                self._model_errors(row, sheet, record, set(changed))
            row.instance = record
        return rows


@functools.cache
def _text_rules(model) -> list[tuple[str, int | None, bool]]:
    return [
        (f.name, f.max_length, isinstance(f, models.EmailField))
        for f in model._meta.concrete_fields
        if isinstance(f, models.CharField) and not f.choices and f.name not in MODEL_CHECK_SKIP
    ]


def _chunks(items: Sequence, size: int):
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- Stash between preview and commit -------------------------------------------------------

TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
STASH_TTL = datetime.timedelta(hours=24)


def _stash_dir() -> Path:
    folder = Path(settings.IMPORT_STASH_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _stash_path(user: User, token: str) -> Path:
    if not TOKEN_PATTERN.match(token or ""):
        raise Http404
    return _stash_dir() / f"{user.pk}-{token}.json"


def stash_save(*, user: User, kind: str, filename: str, sheets: list[Sheet], summary: dict) -> str:
    token = secrets.token_urlsafe(18)
    payload = {
        "user": user.pk,
        "kind": kind,
        "filename": filename[:200],
        "created": timezone.now().isoformat(),
        "sheets": [sheet.__dict__ for sheet in sheets],
        "summary": summary,
    }
    path = _stash_path(user, token)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
    os.replace(temporary, path)
    _stash_cleanup()
    return token


def stash_load(*, user: User, token: str) -> dict:
    """Return the user's stashed upload; another user's token (or a stale one) is a 404."""
    path = _stash_path(user, token)
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError) as error:
        raise Http404 from error
    if payload.get("user") != user.pk:
        raise Http404
    payload["sheets"] = [Sheet(**sheet) for sheet in payload["sheets"]]
    return payload


def stash_update_summary(*, user: User, token: str, summary: dict) -> None:
    path = _stash_path(user, token)
    payload = json.loads(path.read_text(encoding="utf-8"))
    payload["summary"] = summary
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
    os.replace(temporary, path)


def _stash_claim(user: User, token: str) -> Path:
    """Take the stash for one commit: a second click (or a second tab) finds it gone."""
    path = _stash_path(user, token)
    claimed = path.with_suffix(".committing")
    try:
        os.rename(path, claimed)
    except FileNotFoundError as error:
        raise ImportRefused(_("This upload has already been imported or has expired.")) from error
    return claimed


def _stash_cleanup() -> None:
    cutoff = (timezone.now() - STASH_TTL).timestamp()
    for path in _stash_dir().glob("*"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except OSError:
            pass


# --- The service functions ------------------------------------------------------------------


def summarise(rows: dict[str, list[Row]]) -> dict:
    """Return what the preview shows: counts and, per row, action, errors and warnings."""
    summary: dict[str, Any] = {"sheets": {}, "errors": 0, "valid": 0, "total": 0, "guarded": 0}
    for kind, sheet_rows in rows.items():
        counts = defaultdict(int)
        details = []
        for row in sheet_rows:
            counts["error" if row.errors else row.action] += 1
            summary["guarded"] += row.guarded
            details.append(
                {
                    "n": row.number,
                    "label": row.label,
                    "action": "" if row.errors else row.action,
                    "errors": row.errors,
                    "warnings": row.warnings,
                    "changed": row.changed_fields,
                }
            )
        summary["sheets"][kind] = {"counts": dict(counts), "rows": details}
        summary["errors"] += counts["error"]
        summary["total"] += len(sheet_rows)
    summary["valid"] = summary["total"] - summary["errors"]
    return summary


def import_preview(*, user: User, kind: str, upload) -> str:
    """Check and read an upload, validate every row, stash it; return the stash token."""
    permissions.require(permissions.can_create_customer(user))
    if kind not in ImportKind.values:
        raise ImportRefused(_("Unknown kind of import."))
    inspect_upload(upload)
    sheets = read_upload(upload, kind)
    rows = Validator(user, kind).validate(sheets)
    return stash_save(
        user=user,
        kind=kind,
        filename=os.path.basename(getattr(upload, "name", "") or "upload.xlsx"),
        sheets=sheets,
        summary=summarise(rows),
    )


@dataclass
class CommitResult:
    kind: str = ""
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    by_sheet: dict = field(default_factory=dict)


def import_commit(*, user: User, token: str, skip_invalid: bool = False) -> CommitResult:
    """Write a previewed upload in one transaction, after validating it again.

    With errors left, nothing is written unless skip_invalid says to leave those rows out.
    If the database changed since the preview so that other rows now fail, nothing is written
    and the preview is refreshed.
    """
    permissions.require(permissions.can_create_customer(user))
    stash = stash_load(user=user, token=token)
    previewed_valid = stash["summary"]["valid"]
    rows = Validator(user, stash["kind"]).validate(stash["sheets"])
    summary = summarise(rows)
    if summary["valid"] != previewed_valid or summary["errors"] != stash["summary"]["errors"]:
        stash_update_summary(user=user, token=token, summary=summary)
        raise ImportRefused(
            _("The data changed since the preview; nothing was imported. Check the preview again.")
        )
    if summary["guarded"]:
        raise ImportRefused(
            ngettext(
                "%(count)d row tries to change what an import may not change (status, tier, "
                "score, credit, department or managers); nothing was imported. Remove those "
                "values and upload the file again.",
                "%(count)d rows try to change what an import may not change (status, tier, "
                "score, credit, department or managers); nothing was imported. Remove those "
                "values and upload the file again.",
                summary["guarded"],
            )
            % {"count": summary["guarded"]}
        )
    if summary["errors"] and not skip_invalid:
        raise ImportRefused(
            _("%(count)d rows have errors; nothing was imported. Fix them, or choose to skip them.")
            % {"count": summary["errors"]}
        )
    if not summary["valid"]:
        raise ImportRefused(_("No row can be imported."))
    claimed = _stash_claim(user, token)
    try:
        with transaction.atomic():
            result = _write(user, rows)
            result.kind = stash["kind"]
            result.skipped = summary["errors"]
            DataTransferLog.objects.create(
                user=user,
                kind=TransferKind.IMPORT,
                what=stash["kind"],
                row_count=result.created + result.updated,
                filename=stash["filename"],
                query=_("%(created)d created, %(updated)d updated, %(skipped)d skipped")
                % {
                    "created": result.created,
                    "updated": result.updated,
                    "skipped": result.skipped,
                },
            )
    except BaseException:
        os.rename(claimed, claimed.with_suffix(".json"))  # let the user try again
        raise
    claimed.unlink(missing_ok=True)
    return result


BATCH = 500


def _write(user: User, rows: dict[str, list[Row]]) -> CommitResult:
    """Hand the valid rows to the set-based services, customers first (contacts need them)."""
    result = CommitResult()
    reason = _("Excel import")

    def count(kind, sheet_rows):
        tally = defaultdict(int)
        for row in sheet_rows:
            if row.ok:
                tally[row.action] += 1
        result.by_sheet[kind] = dict(tally)
        result.created += tally["create"]
        result.updated += tally["update"]
        result.unchanged += tally["unchanged"]

    def split(kind):
        valid = [r for r in rows.get(kind, []) if r.ok]
        created = [r.instance for r in valid if r.action == "create"]
        changes = [(r.instance, r.changed_fields) for r in valid if r.action == "update"]
        return created, changes

    created, changes = split("customers")
    services.customers_bulk_create(customers=created, created_by=user, reason=reason)
    services.customers_bulk_update(changes=changes, updated_by=user, reason=reason)
    count("customers", rows.get("customers", []))
    created, changes = split("contacts")
    services.contacts_bulk_write(created=created, changes=changes, by=user, reason=reason)
    count("contacts", rows.get("contacts", []))
    created, changes = split("transactions")
    try:
        services.transactions_bulk_write(created=created, changes=changes, by=user, reason=reason)
    except BusinessRuleError as error:
        record = getattr(error, "record", None)
        row = next((r for r in rows["transactions"] if r.instance is record), None)
        raise ImportRefused(
            _("Row %(row)d: %(message)s Nothing was imported.")
            % {"row": row.number if row else 0, "message": error.message}
        ) from error
    count("transactions", rows.get("transactions", []))
    return result


# --- Workbooks for the user: the template, the failed rows ----------------------------------

PROVINCES = (
    "北京市 天津市 上海市 重庆市 河北省 山西省 辽宁省 吉林省 黑龙江省 江苏省 浙江省 安徽省 福建省 "
    "江西省 山东省 河南省 湖北省 湖南省 广东省 海南省 四川省 贵州省 云南省 陕西省 甘肃省 青海省 "
    "台湾省 内蒙古自治区 广西壮族自治区 西藏自治区 宁夏回族自治区 新疆维吾尔自治区 "
    "香港特别行政区 澳门特别行政区"
).split()
TEMPLATE_ROWS = 20_000


def _managers_for(user: User) -> list[str]:
    staff = User.objects.filter(
        is_active=True,
        groups__name__in=[permissions.Role.ACCOUNT_MANAGER, permissions.Role.DEPARTMENT_HEAD],
    ).distinct()
    if permissions.is_admin(user):
        pass
    elif permissions.is_department_head(user):
        staff = staff.filter(department__in=permissions.headed_department_ids(user))
    else:
        staff = staff.filter(pk=user.pk)
    return list(staff.order_by("username").values_list("username", flat=True))


def _departments_for(user: User) -> list[str]:
    departments = Department.objects.all()
    if not permissions.is_admin(user):
        ids = permissions.headed_department_ids(user) or [user.department_id]
        departments = departments.filter(pk__in=ids)
    return list(departments.order_by("name").values_list("name", flat=True))


def build_template(kind: str, user: User, target) -> None:
    """Write an empty import template: headers in the user's language, drop-down lists."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter, quote_sheetname
    from openpyxl.worksheet.datavalidation import DataValidation

    workbook = Workbook()
    lists = workbook.active
    lists.title = "Lists"
    list_columns: dict[str, str] = {}

    def add_list(name: str, values: Sequence[str]) -> str:
        if name not in list_columns:
            column = get_column_letter(len(list_columns) + 1)
            lists[f"{column}1"] = name
            for index, value in enumerate(values, start=2):
                lists[f"{column}{index}"] = value
            end = max(2, len(values) + 1)
            list_columns[name] = f"{quote_sheetname(lists.title)}!${column}$2:${column}${end}"
        return list_columns[name]

    sheet_kinds = ["customers", "contacts"] if kind == ImportKind.CUSTOMERS else ["transactions"]
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    for sheet_kind in sheet_kinds:
        sheet = workbook.create_sheet(str(SHEET_TITLES[sheet_kind]))
        fields = [f for f in SHEETS[sheet_kind] if f.kind != IGNORED and f.guarded != ALWAYS]
        for index, spec in enumerate(fields, start=1):
            cell = sheet.cell(row=1, column=index, value=str(spec.header))
            cell.font, cell.fill = bold, fill
            letter = get_column_letter(index)
            sheet.column_dimensions[letter].width = spec.width
            cells = f"{letter}2:{letter}{TEMPLATE_ROWS + 1}"
            source = None
            if spec.kind == CHOICE:
                source = add_list(spec.key, [str(label) for _v, label in spec.choices.choices])
            elif spec.kind == USER:
                source = add_list("managers", _managers_for(user))
            elif spec.kind == DEPARTMENT:
                source = add_list("departments", _departments_for(user))
            elif spec.key == "province":
                source = add_list("provinces", PROVINCES)
            elif spec.kind == BOOL:
                source = add_list("yes_no", ["TRUE", "FALSE"])
            if source:
                validation = DataValidation(
                    type="list",
                    formula1=f"={source}",
                    allow_blank=True,
                    showErrorMessage=spec.key != "province",  # other places are allowed
                )
                validation.error = _("Choose a value from the list.")
                validation.errorTitle = str(spec.header)
                validation.add(cells)
                sheet.add_data_validation(validation)
            elif spec.kind == DATE:
                validation = DataValidation(
                    type="date", operator="greaterThan", formula1="1", allow_blank=True
                )
                validation.error = _("Enter a date, such as 2026-03-31.")
                validation.add(cells)
                sheet.add_data_validation(validation)
                for row in range(2, 3):
                    sheet.cell(row=row, column=index).number_format = "yyyy-mm-dd"
            elif spec.kind == MONEY and spec.key != "profit":
                validation = DataValidation(
                    type="decimal", operator="greaterThanOrEqual", formula1="0", allow_blank=True
                )
                validation.error = _("Enter an amount of 0 or more.")
                validation.add(cells)
                sheet.add_data_validation(validation)
            elif spec.kind in (TEXT, CREDIT_CODE):
                # Text columns are text: phone numbers and codes keep their leading zeros.
                pass
        sheet.freeze_panes = "A2"
    lists.sheet_state = "hidden"
    workbook.move_sheet(lists, offset=len(workbook.sheetnames) - 1)
    workbook.active = 0
    workbook.save(target)


def build_failed_rows(stash: dict, target) -> int:
    """Write the rows with errors, as uploaded, with an added column saying what is wrong."""
    from .spreadsheets import SheetWriter, new_workbook

    workbook = new_workbook()
    failed = 0
    for sheet in stash["sheets"]:
        details = {
            row["n"]: row for row in stash["summary"]["sheets"].get(sheet.kind, {}).get("rows", [])
        }
        writer = SheetWriter(workbook, sheet.title, [])
        writer.write_header([*sheet.headers, _("Errors")])
        for raw in sheet.rows:
            detail = details.get(raw["n"])
            if not detail or not detail["errors"]:
                continue
            values = [_plain(value) for value in raw["v"]]
            message = "; ".join(
                _("row %(row)d, %(column)s: %(message)s")
                % {"row": raw["n"], "column": column, "message": message}
                for column, message in detail["errors"]
            )
            writer.append_values([*values, message])
            failed += 1
    workbook.save(target)
    return failed


def _plain(value: Any) -> Any:
    """Turn a stashed value back into a cell value (a formula comes back as its text)."""
    if isinstance(value, dict):
        if "f" in value:
            return value["f"]
        return datetime.date.fromisoformat(value["d"])
    return value
