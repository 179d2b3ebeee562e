"""Countries, currencies and providers that regions may name.

Jobstream's own reference data (Medusa seeds these tables from its own lists). A
country's `id` is its ISO 3166-1 numeric code.
"""

from __future__ import annotations

from typing import Any

# iso_2: (iso_3, numeric code, display name)
COUNTRIES: dict[str, tuple[str, int, str]] = {
    "ar": ("arg", 32, "Argentina"), "at": ("aut", 40, "Austria"),
    "au": ("aus", 36, "Australia"), "be": ("bel", 56, "Belgium"),
    "br": ("bra", 76, "Brazil"), "ca": ("can", 124, "Canada"),
    "ch": ("che", 756, "Switzerland"), "cl": ("chl", 152, "Chile"),
    "cn": ("chn", 156, "China"), "co": ("col", 170, "Colombia"),
    "cz": ("cze", 203, "Czech Republic"), "de": ("deu", 276, "Germany"),
    "dk": ("dnk", 208, "Denmark"), "ee": ("est", 233, "Estonia"),
    "es": ("esp", 724, "Spain"), "fi": ("fin", 246, "Finland"),
    "fr": ("fra", 250, "France"), "gb": ("gbr", 826, "United Kingdom"),
    "gr": ("grc", 300, "Greece"), "hr": ("hrv", 191, "Croatia"),
    "hu": ("hun", 348, "Hungary"), "ie": ("irl", 372, "Ireland"),
    "in": ("ind", 356, "India"), "is": ("isl", 352, "Iceland"),
    "it": ("ita", 380, "Italy"), "jp": ("jpn", 392, "Japan"),
    "kr": ("kor", 410, "Korea, Republic of"), "lt": ("ltu", 440, "Lithuania"),
    "lu": ("lux", 442, "Luxembourg"), "lv": ("lva", 428, "Latvia"),
    "mx": ("mex", 484, "Mexico"), "nl": ("nld", 528, "Netherlands"),
    "no": ("nor", 578, "Norway"), "nz": ("nzl", 554, "New Zealand"),
    "pl": ("pol", 616, "Poland"), "pt": ("prt", 620, "Portugal"),
    "ro": ("rou", 642, "Romania"), "se": ("swe", 752, "Sweden"),
    "sg": ("sgp", 702, "Singapore"), "si": ("svn", 705, "Slovenia"),
    "sk": ("svk", 703, "Slovakia"), "tr": ("tur", 792, "Turkey"),
    "ua": ("ukr", 804, "Ukraine"), "us": ("usa", 840, "United States"),
    "za": ("zaf", 710, "South Africa"),
}  # fmt: skip

# code: (symbol, native symbol, name)
CURRENCIES: dict[str, tuple[str, str, str]] = {
    "usd": ("$", "$", "US Dollar"), "eur": ("€", "€", "Euro"),
    "gbp": ("£", "£", "British Pound Sterling"), "dkk": ("Dkr", "kr", "Danish Krone"),
    "sek": ("Skr", "kr", "Swedish Krona"), "nok": ("Nkr", "kr", "Norwegian Krone"),
    "chf": ("CHF", "CHF", "Swiss Franc"), "cad": ("CA$", "$", "Canadian Dollar"),
    "aud": ("AU$", "$", "Australian Dollar"), "jpy": ("¥", "￥", "Japanese Yen"),
    "pln": ("zł", "zł", "Polish Zloty"), "czk": ("Kč", "Kč", "Czech Republic Koruna"),
}  # fmt: skip

PAYMENT_PROVIDERS = frozenset({"manual"})
FULFILLMENT_PROVIDERS = frozenset({"manual"})


def country(iso_2: str, region_id: str) -> dict[str, Any]:
    iso_3, number, display_name = COUNTRIES[iso_2]
    return {
        "id": number, "iso_2": iso_2, "iso_3": iso_3, "num_code": number,
        "name": display_name.upper(), "display_name": display_name,
        "region_id": region_id,
    }  # fmt: skip


def currency(code: str) -> dict[str, Any]:
    symbol, native, name = CURRENCIES.get(code, (code.upper(), code.upper(), code))
    return {"code": code, "symbol": symbol, "symbol_native": native, "name": name}
