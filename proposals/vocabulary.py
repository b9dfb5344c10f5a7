"""The fixed lists users choose from: themes, legal forms, roles.

Keys are stored; labels are translated when shown.
"""

from __future__ import annotations

from babel.support import LazyProxy

from proposals.i18n import lazy_gettext as _l

THEMES: dict[str, LazyProxy] = {
    "civic-participation": _l("Civic participation"),
    "democracy": _l("Democracy and rule of law"),
    "human-rights": _l("Human rights"),
    "social-inclusion": _l("Social inclusion"),
    "environment": _l("Environment and climate"),
    "youth": _l("Youth"),
    "education": _l("Education and training"),
    "culture": _l("Culture and heritage"),
    "gender-equality": _l("Gender equality"),
    "minorities": _l("Minorities and migrants"),
    "health": _l("Health and social care"),
    "volunteering": _l("Volunteering"),
    "local-development": _l("Local and rural development"),
    "digital": _l("Digital skills"),
    "media": _l("Media and information literacy"),
    "seniors": _l("Older people"),
    "disability": _l("Disability"),
    "tourism": _l("Sustainable tourism"),
    "sport": _l("Sport"),
    "capacity-building": _l("NGO capacity building"),
}

LEGAL_FORMS: dict[str, LazyProxy] = {
    "association": _l("Association"),
    "foundation": _l("Foundation"),
    "federation": _l("Federation or umbrella network"),
    "social-enterprise": _l("Cooperative or social enterprise"),
    "informal-group": _l("Informal group"),
    "public-body": _l("Public body (municipality, region)"),
    "education-research": _l("School, university or research body"),
    "other": _l("Other"),
}

MEMBER_ROLES: dict[str, LazyProxy] = {
    "admin": _l("Administrator"),
    "member": _l("Member"),
}


def label(vocabulary: dict[str, LazyProxy], key: str) -> str:
    value = vocabulary.get(key)
    return str(value) if value is not None else key
