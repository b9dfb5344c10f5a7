"""NUTS regions (levels 1 and 2) of the countries around the Baltic Sea, for eligible areas.

Source: Eurostat, NUTS 2024 classification (Commission Delegated Regulation (EU)
2023/2506, in force from 1 January 2024), levels 1 and 2, names as Eurostat
publishes them (in the national language). Norway and Iceland are EFTA
statistical regions agreed with Eurostat in the same classification. An organisation
in one of these countries may name the region it is in; a call whose area stops
below country level (e.g. Interreg Baltic Sea Region in Germany) is checked against it.
Countries not listed here have no regions to choose: their calls use whole countries.
"""

from __future__ import annotations

NUTS: dict[str, dict[str, str]] = {
    "DE": {
        "DE1": "Baden-Württemberg",
        "DE11": "Stuttgart",
        "DE12": "Karlsruhe",
        "DE13": "Freiburg",
        "DE14": "Tübingen",
        "DE2": "Bayern",
        "DE21": "Oberbayern",
        "DE22": "Niederbayern",
        "DE23": "Oberpfalz",
        "DE24": "Oberfranken",
        "DE25": "Mittelfranken",
        "DE26": "Unterfranken",
        "DE27": "Schwaben",
        "DE3": "Berlin",
        "DE30": "Berlin",
        "DE4": "Brandenburg",
        "DE40": "Brandenburg",
        "DE5": "Bremen",
        "DE50": "Bremen",
        "DE6": "Hamburg",
        "DE60": "Hamburg",
        "DE7": "Hessen",
        "DE71": "Darmstadt",
        "DE72": "Gießen",
        "DE73": "Kassel",
        "DE8": "Mecklenburg-Vorpommern",
        "DE80": "Mecklenburg-Vorpommern",
        "DE9": "Niedersachsen",
        "DE91": "Braunschweig",
        "DE92": "Hannover",
        "DE93": "Lüneburg",
        "DE94": "Weser-Ems",
        "DEA": "Nordrhein-Westfalen",
        "DEA1": "Düsseldorf",
        "DEA2": "Köln",
        "DEA3": "Münster",
        "DEA4": "Detmold",
        "DEA5": "Arnsberg",
        "DEB": "Rheinland-Pfalz",
        "DEB1": "Koblenz",
        "DEB2": "Trier",
        "DEB3": "Rheinhessen-Pfalz",
        "DEC": "Saarland",
        "DEC0": "Saarland",
        "DED": "Sachsen",
        "DED2": "Dresden",
        "DED4": "Chemnitz",
        "DED5": "Leipzig",
        "DEE": "Sachsen-Anhalt",
        "DEE0": "Sachsen-Anhalt",
        "DEF": "Schleswig-Holstein",
        "DEF0": "Schleswig-Holstein",
        "DEG": "Thüringen",
        "DEG0": "Thüringen",
    },
    "DK": {
        "DK0": "Danmark",
        "DK01": "Hovedstaden",
        "DK02": "Sjælland",
        "DK03": "Syddanmark",
        "DK04": "Midtjylland",
        "DK05": "Nordjylland",
    },
    "EE": {"EE0": "Eesti", "EE00": "Eesti"},
    "FI": {
        "FI1": "Manner-Suomi",
        "FI19": "Länsi-Suomi",
        "FI1B": "Helsinki-Uusimaa",
        "FI1C": "Etelä-Suomi",
        "FI1D": "Pohjois- ja Itä-Suomi",
        "FI2": "Åland",
        "FI20": "Åland",
    },
    "IS": {"IS0": "Ísland", "IS00": "Ísland"},
    "LT": {
        "LT0": "Lietuva",
        "LT01": "Sostinės regionas",
        "LT02": "Vidurio ir vakarų Lietuvos regionas",
    },
    "LV": {"LV0": "Latvija", "LV00": "Latvija"},
    "NO": {
        "NO0": "Norge",
        "NO02": "Innlandet",
        "NO06": "Trøndelag",
        "NO07": "Nord-Norge",
        "NO08": "Oslo og Viken",
        "NO09": "Agder og Sør-Østlandet",
        "NO0A": "Vestlandet",
        "NO0B": "Jan Mayen og Svalbard",
    },
    "PL": {
        "PL2": "Makroregion południowy",
        "PL21": "Małopolskie",
        "PL22": "Śląskie",
        "PL4": "Makroregion północno-zachodni",
        "PL41": "Wielkopolskie",
        "PL42": "Zachodniopomorskie",
        "PL43": "Lubuskie",
        "PL5": "Makroregion południowo-zachodni",
        "PL51": "Dolnośląskie",
        "PL52": "Opolskie",
        "PL6": "Makroregion północny",
        "PL61": "Kujawsko-pomorskie",
        "PL62": "Warmińsko-mazurskie",
        "PL63": "Pomorskie",
        "PL7": "Makroregion centralny",
        "PL71": "Łódzkie",
        "PL72": "Świętokrzyskie",
        "PL8": "Makroregion wschodni",
        "PL81": "Lubelskie",
        "PL82": "Podkarpackie",
        "PL84": "Podlaskie",
        "PL9": "Makroregion województwo mazowieckie",
        "PL91": "Warszawski stołeczny",
        "PL92": "Mazowiecki regionalny",
    },
    "SE": {
        "SE1": "Östra Sverige",
        "SE11": "Stockholm",
        "SE12": "Östra Mellansverige",
        "SE2": "Södra Sverige",
        "SE21": "Småland med öarna",
        "SE22": "Sydsverige",
        "SE23": "Västsverige",
        "SE3": "Norra Sverige",
        "SE31": "Norra Mellansverige",
        "SE32": "Mellersta Norrland",
        "SE33": "Övre Norrland",
    },
}


def regions_of(country: str) -> dict[str, str]:
    """The NUTS 1 and 2 regions of ``country`` (empty when Engage lists none)."""
    return NUTS.get(country.upper(), {})


def region_name(code: str) -> str:
    """The region's name, or "" when the code is not one of the listed regions."""
    return regions_of(code[:2]).get(code.upper(), "")


def region_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """Per country, the regions to choose from: level 2 under its level 1 region."""
    return [
        (country, [(code, f"{code} – {name}") for code, name in regions.items()])
        for country, regions in NUTS.items()
    ]
