"""Reference lists used by organisation records: Sichuan's cities and prefectures (GB/T 2260)
and the industry classification GB/T 4754-2017.

An organisation's industry is a class (小类, four digits) of the classification kept beside the
rule files (``criteria/vocabulary/``), so that the rule files and the organisations speak of the
same classes; the divisions (大类) below carry English names for screens in English and for
assessors' fields of expertise.
"""

import csv
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

from certify.rulesets import current_registry
from certify.scoring import Industry


@dataclass(frozen=True)
class CodedName:
    """An entry of a coded list, named in Chinese and English."""

    code: str
    name_zh: str
    name_en: str

    def name(self, locale: str) -> str:
        return self.name_zh if locale.startswith("zh") else self.name_en


@cache
def cities() -> tuple[CodedName, ...]:
    """The 21 cities and prefectures of Sichuan, in code order (the province row left out)."""
    with resources.files("certify.data").joinpath("sichuan-divisions.csv").open(encoding="utf-8") as fh:
        rows = [CodedName(r["code"], r["name_zh"], r["name_en"]) for r in csv.DictReader(fh)]
    return tuple(row for row in rows if not row.code.endswith("0000"))


@cache
def cities_by_code() -> dict[str, CodedName]:
    return {city.code: city for city in cities()}


def city_of(division_code: str) -> str:
    """The city code for any division code: a county such as 510104 belongs to 510100."""
    return division_code[:4] + "00"


# GB/T 4754-2017 divisions (大类) of mining, manufacturing and utilities: the sectors that apply
# for green manufacturing recognition.
INDUSTRIES = tuple(CodedName(*row) for row in (
    ("06", "煤炭开采和洗选业", "Coal mining and washing"),
    ("07", "石油和天然气开采业", "Petroleum and natural gas extraction"),
    ("08", "黑色金属矿采选业", "Ferrous metal ore mining"),
    ("09", "有色金属矿采选业", "Non-ferrous metal ore mining"),
    ("10", "非金属矿采选业", "Non-metallic mineral mining"),
    ("13", "农副食品加工业", "Agricultural and sideline food processing"),
    ("14", "食品制造业", "Food manufacturing"),
    ("15", "酒、饮料和精制茶制造业", "Liquor, beverages and refined tea"),
    ("16", "烟草制品业", "Tobacco products"),
    ("17", "纺织业", "Textiles"),
    ("18", "纺织服装、服饰业", "Textile garments and apparel"),
    ("19", "皮革、毛皮、羽毛及其制品和制鞋业", "Leather, fur, feathers and footwear"),
    ("20", "木材加工和木、竹、藤、棕、草制品业", "Wood, bamboo, rattan, palm and straw products"),
    ("21", "家具制造业", "Furniture"),
    ("22", "造纸和纸制品业", "Paper and paper products"),
    ("23", "印刷和记录媒介复制业", "Printing and reproduction of recorded media"),
    ("24", "文教、工美、体育和娱乐用品制造业", "Stationery, arts and crafts, sports and recreation goods"),
    ("25", "石油、煤炭及其他燃料加工业", "Petroleum, coal and other fuel processing"),
    ("26", "化学原料和化学制品制造业", "Chemical raw materials and chemical products"),
    ("27", "医药制造业", "Pharmaceuticals"),
    ("28", "化学纤维制造业", "Chemical fibres"),
    ("29", "橡胶和塑料制品业", "Rubber and plastic products"),
    ("30", "非金属矿物制品业", "Non-metallic mineral products"),
    ("31", "黑色金属冶炼和压延加工业", "Ferrous metal smelting and rolling"),
    ("32", "有色金属冶炼和压延加工业", "Non-ferrous metal smelting and rolling"),
    ("33", "金属制品业", "Metal products"),
    ("34", "通用设备制造业", "General-purpose machinery"),
    ("35", "专用设备制造业", "Special-purpose machinery"),
    ("36", "汽车制造业", "Automobiles"),
    ("37", "铁路、船舶、航空航天和其他运输设备制造业", "Railway, ships, aerospace and other transport equipment"),
    ("38", "电气机械和器材制造业", "Electrical machinery and equipment"),
    ("39", "计算机、通信和其他电子设备制造业", "Computers, communication and other electronic equipment"),
    ("40", "仪器仪表制造业", "Instruments and meters"),
    ("41", "其他制造业", "Other manufacturing"),
    ("42", "废弃资源综合利用业", "Comprehensive use of waste resources"),
    ("43", "金属制品、机械和设备修理业", "Repair of metal products, machinery and equipment"),
    ("44", "电力、热力生产和供应业", "Electricity and heat production and supply"),
    ("45", "燃气生产和供应业", "Gas production and supply"),
    ("46", "水的生产和供应业", "Water production and supply"),
))
INDUSTRIES_BY_CODE = {industry.code: industry for industry in INDUSTRIES}


def industry(code: str | None) -> Industry | None:
    """The entry of GB/T 4754-2017 with this code (class, group or division), if any."""
    return current_registry().vocabulary.industry(code)


def is_industry_class(code: str | None) -> bool:
    """Whether ``code`` is a class (小类) of GB/T 4754-2017."""
    entry = industry(code)
    return entry is not None and entry.level == "class"


def industry_classes() -> list[Industry]:
    """Every class of GB/T 4754-2017, in code order."""
    return sorted((i for i in current_registry().vocabulary.industries.values() if i.level == "class"),
                  key=lambda i: i.code)


def industry_label(code: str | None, locale: str = "zh") -> str:
    """``3120 炼钢`` (in English with its division's English name); the bare code when unknown."""
    if not code:
        return ""
    entry = industry(code)
    if entry is None:
        return code
    if locale.startswith("zh"):
        return entry.label
    division = INDUSTRIES_BY_CODE.get(code[:2])
    return f"{entry.label} ({division.name_en})" if division and entry.level != "division" else entry.label


_LEADING_CODE = re.compile(r"\s*([0-9０-９]{2,4})(?![0-9０-９])")


def industry_code_in(text: str | None) -> str:
    """The code a person typed or picked (``3120``, ``3120 炼钢``), or the text itself."""
    text = (text or "").strip()
    match = _LEADING_CODE.match(text)
    if match is None:
        return text
    return match[1].translate(str.maketrans("０１２３４５６７８９", "0123456789"))
