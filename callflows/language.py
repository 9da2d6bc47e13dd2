"""Words and times as callers say and hear them: matching what a caller said or pressed
against a menu, and speaking the next opening time in the caller's language."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime

from callflows.schema import Flow, MenuNode, MenuOption
from ivr.calendar import BusinessCalendar

# What the engine says when a menu answer matches nothing, when the flow does not say it.
BUILT_IN_SORRY = {
    "en": "Sorry, I didn't get that.",
    "es": "Perdón, no le entendí.",
}

# A caller who says the number instead of pressing it ("two", "dos").
NUMBER_WORDS = {
    "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
    "seven": "7", "eight": "8", "nine": "9",
    "cero": "0", "uno": "1", "dos": "2", "tres": "3", "cuatro": "4", "cinco": "5", "seis": "6",
    "siete": "7", "ocho": "8", "nueve": "9",
}

_WEEKDAYS = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "es": ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"),
}
_MONTHS = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
    "es": ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
           "septiembre", "octubre", "noviembre", "diciembre"),
}


def base_language(language: str) -> str:
    """`es-US` -> `es`."""
    return language.split("-")[0].lower()


def built_in_sorry(language: str) -> str | None:
    return BUILT_IN_SORRY.get(base_language(language))


def normalize(text: str) -> list[str]:
    """The words of an utterance: lower case, accents and punctuation dropped
    ("¡Español, por favor!" -> ["espanol", "por", "favor"])."""
    folded = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    return re.findall(r"[\w*#]+", plain)


def find_phrase(words: list[str], phrase: str) -> int | None:
    """Where `phrase` (one or more words) first appears in `words`, or None."""
    wanted = normalize(phrase)
    if not wanted:
        return None
    for index in range(len(words) - len(wanted) + 1):
        if words[index:index + len(wanted)] == wanted:
            return index
    return None


def spoken_key(words: list[str]) -> str | None:
    """The key a caller said when the whole answer is one number ("2", "two", "dos")."""
    if len(words) != 1:
        return None
    word = words[0]
    if word in NUMBER_WORDS:
        return NUMBER_WORDS[word]
    return word if len(word) == 1 and (word.isdigit() or word == "*") else None


def choose(flow: Flow, menu: MenuNode, *, digits: str | None,
            speech: str | None) -> MenuOption | str | None:
    """The option the caller chose, "agent" for a person, or None."""
    if digits is None and speech is not None:
        words = normalize(speech)
        if any(find_phrase(words, w) is not None for w in flow.settings.all_agent_words()):
            return "agent"
        digits = spoken_key(words)
        if digits is None:
            return option_by_word(menu, words)
    if digits == "0":
        return "agent"
    return next((option for option in menu.options if option.key == digits), None)


def option_by_word(menu: MenuNode, words: list[str]) -> MenuOption | None:
    """The option whose word the caller said first."""
    best: tuple[int, MenuOption] | None = None
    for option in menu.options:
        for word in option.words:
            at = find_phrase(words, word)
            if at is not None and (best is None or at < best[0]):
                best = (at, option)
    return best[1] if best else None


def speak_opening(
    opens: datetime, *, calendar: BusinessCalendar, language: str, now: datetime | None
) -> str:
    """When the line opens, as a caller hears it: "today at 8 AM", "tomorrow at 8:30 AM",
    "Monday at 8 AM", "Monday, January 4 at 8 AM"; in Spanish "mañana a las 8:00". Without
    `now` the day is always named. Languages other than Spanish are spoken in English."""
    local = opens.astimezone(calendar.tz)
    lang = "es" if base_language(language) == "es" else "en"
    day = _spoken_day(local.date(), now.astimezone(calendar.tz).date() if now else None, lang)
    if lang == "es":
        article = "a la" if local.hour == 1 else "a las"
        return f"{day} {article} {local.hour}:{local.minute:02d}"
    hour = local.hour % 12 or 12
    suffix = "AM" if local.hour < 12 else "PM"
    clock = f"{hour} {suffix}" if local.minute == 0 else f"{hour}:{local.minute:02d} {suffix}"
    return f"{day} at {clock}"


def _spoken_day(day: date, today: date | None, lang: str) -> str:
    weekday = _WEEKDAYS[lang][day.weekday()]
    if today is not None:
        ahead = (day - today).days
        if ahead == 0:
            return "hoy" if lang == "es" else "today"
        if ahead == 1:
            return "mañana" if lang == "es" else "tomorrow"
        if 1 < ahead < 7:
            return f"el {weekday}" if lang == "es" else weekday
    month = _MONTHS[lang][day.month - 1]
    if lang == "es":
        return f"el {weekday} {day.day} de {month}"
    return f"{weekday}, {month} {day.day}"
