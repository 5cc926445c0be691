"""Install the tier policies of the grading policy (reference/004, section 三)."""

from decimal import Decimal

from django.db import migrations

DEFAULTS = {
    "A": (
        30,
        2,
        Decimal("50000"),
        [
            "专属服务团队：公司高层领导挂帅，多部门精英组成",
            "个性化解决方案",
            "优先资源配置：研发、生产排期、市场推广优先",
            "定期高层沟通：高层领导每季度面对面会谈",
            "联合市场推广",
        ],
    ),
    "B": (
        60,
        4,
        Decimal("20000"),
        [
            "重点客户经理制",
            "定制化服务方案",
            "定期回访与沟通",
            "培训与支持",
            "适度优惠政策",
        ],
    ),
    "C": (
        90,
        8,
        Decimal("5000"),
        [
            "标准化服务",
            "定期信息推送",
            "客户关怀活动：节日问候、生日祝福、问卷调查",
            "业务拓展引导",
        ],
    ),
    "D": (
        180,
        24,
        Decimal("0"),
        [
            "风险评估与监控",
            "保持基本沟通与反馈",
            "资源优化配置，避免过度投入",
            "适时调整合作策略",
        ],
    ),
}


def install(apps, schema_editor):
    TierPolicy = apps.get_model("tiers", "TierPolicy")
    for tier, (interval, response, budget, measures) in DEFAULTS.items():
        TierPolicy.objects.update_or_create(
            tier=tier,
            defaults={
                "visit_interval_days": interval,
                "complaint_response_hours": response,
                "yearly_care_budget": budget,
                "service_measures": measures,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("tiers", "0001_initial")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
