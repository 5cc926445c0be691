"""Install the default scoring model of the design (reference/004), active, as version 1."""

from decimal import Decimal

from django.db import migrations
from django.utils import timezone

# code, name, dimension, weight, source, full marks at, description
INDICATORS = [
    ("annual_purchase", "年采购额", "value", 30, "computed", 5_000_000,
     "12 个月交易金额合计，¥5,000,000 满分"),
    ("purchase_frequency", "采购频次", "value", 10, "computed", 24, "12 个月交易笔数，24 笔满分"),
    ("profit_contribution", "利润贡献率", "value", 10, "computed", 2,
     "客户利润占全部客户利润的百分比，2% 满分"),
    ("industry_outlook", "行业前景", "potential", 10, "assessed", 100, "客户经理评估 0–100"),
    ("growth_trend", "成长趋势", "potential", 10, "assessed", 100, "客户经理评估 0–100"),
    ("expansion_potential", "业务拓展潜力", "potential", 10, "assessed", 100, "客户经理评估 0–100"),
    ("credit_rating", "信用等级", "credit", 5, "assessed", 100, "客户经理评估 0–100"),
    ("payment_record", "付款记录", "credit", 5, "computed", 100,
     "窗口内到期交易中按期付款的比例（%）"),
    ("financial_health", "财务状况", "credit", 5, "assessed", 100, "客户经理评估 0–100"),
    ("repurchase_rate", "复购率", "loyalty", 2, "computed", 100, "窗口内 4 个季度中有交易的季度比例（%）"),
    ("recommendation", "推荐意愿", "loyalty", 2, "assessed", 100, "客户经理评估 0–100"),
    ("brand_recognition", "品牌认同度", "loyalty", 1, "assessed", 100, "客户经理评估 0–100"),
]  # fmt: skip


def install(apps, schema_editor):
    ScoringModel = apps.get_model("tiers", "ScoringModel")
    Indicator = apps.get_model("tiers", "Indicator")
    if ScoringModel.objects.filter(version=1).exists():
        return
    model = ScoringModel.objects.create(
        version=1,
        name="大客户分级评分模型",
        is_active=True,
        activated_at=timezone.now(),
        threshold_a=Decimal("85"),
        threshold_b=Decimal("70"),
        threshold_c=Decimal("55"),
    )
    for position, (code, name, dimension, weight, source, cap, description) in enumerate(
        INDICATORS, start=1
    ):
        Indicator.objects.create(
            scoring_model=model,
            code=code,
            name=name,
            dimension=dimension,
            weight=Decimal(weight),
            source=source,
            full_marks_at=Decimal(cap),
            description=description,
            position=position,
        )


class Migration(migrations.Migration):
    dependencies = [("tiers", "0003_scoring_runs_appeals")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
