"""Names to pinyin for search: full pinyin and initials, with surnames read as surnames."""

from __future__ import annotations

from pypinyin import Style, lazy_pinyin

# Surnames whose everyday reading differs from the surname reading (pypinyin reads 曾 as ceng, 单 as dan).
# Compound surnames come first so that they are matched before single characters.
SURNAME_READINGS: dict[str, list[str]] = {
    "万俟": ["mo", "qi"],
    "尉迟": ["yu", "chi"],
    "长孙": ["zhang", "sun"],
    "澹台": ["tan", "tai"],
    "曾": ["zeng"],
    "单": ["shan"],
    "解": ["xie"],
    "仇": ["qiu"],
    "朴": ["piao"],
    "查": ["zha"],
    "区": ["ou"],
    "盖": ["ge"],
    "乐": ["yue"],
    "覃": ["qin"],
    "翟": ["zhai"],
    "缪": ["miao"],
    "秘": ["bi"],
    "繁": ["po"],
    "种": ["chong"],
    "员": ["yun"],
    "召": ["shao"],
    "折": ["she"],
    "宿": ["su"],
    "藏": ["zang"],
    "隗": ["wei"],
    "句": ["gou"],
    "能": ["nai"],
    "祭": ["zhai"],
    "车": ["che"],
    "柏": ["bai"],
    "沈": ["shen"],
    "贾": ["jia"],
    "褚": ["chu"],
    "燕": ["yan"],
    "华": ["hua"],
    "任": ["ren"],
    "纪": ["ji"],
    "黑": ["he"],
    "牟": ["mou"],
    "过": ["guo"],
    "曲": ["qu"],
    "洗": ["xian"],
    "冼": ["xian"],
    "薄": ["bo"],
    "卜": ["bu"],
    "尉": ["wei"],
}


def syllables(name: str) -> list[str]:
    """The name's syllables, lower case, with the surname read as a surname."""
    name = name.strip()
    for surname in sorted(SURNAME_READINGS, key=len, reverse=True):
        if name.startswith(surname) and len(name) > len(surname):
            rest = name[len(surname) :]
            return [*SURNAME_READINGS[surname], *_plain(rest)]
    return _plain(name)


def _plain(text: str) -> list[str]:
    out: list[str] = []
    for part in lazy_pinyin(text, style=Style.NORMAL, errors="default"):
        out.append(part.lower().replace("ü", "v").replace(" ", ""))
    return out


def full_pinyin(name: str) -> str:
    """张三丰 → zhangsanfeng."""
    return "".join(syllables(name))


def initials(name: str) -> str:
    """张三丰 → zsf."""
    return "".join(s[0] for s in syllables(name) if s)
