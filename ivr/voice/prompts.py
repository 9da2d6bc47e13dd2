"""What the service itself says (outside the flow file), in the languages the flows use."""

from __future__ import annotations

PROMPTS: dict[str, dict[str, str]] = {
    "en-US": {
        "next": "You are next. Thank you for holding.",
        "position": "You are number {position} in line. Thank you for holding.",
        "sorry": "Sorry, something went wrong on our side. Please stay on the line.",
        "still_here": "Thanks for waiting. We are putting you through to someone now.",
        "connecting": "Thank you for waiting. Connecting you now.",
        "callback_offer": "Rather not wait? Press 1 to be called back when it is your turn. "
        "You keep your place in line. Press 2 to choose a time for us to call you.",
        "callback_confirm": "We will call you at {number}. Press 1 if that is right, "
        "or press 2 to enter a different number.",
        "callback_enter_number": "Please enter the number to call, with the area code, then "
        "press the pound key.",
        "callback_bad_number": "Sorry, that number is not one we can call.",
        "callback_stay": "All right, please stay on the line.",
        "callback_not_possible": "Sorry, we cannot call that number back. Please stay on the "
        "line.",
        "callback_kept": "Thank you. We will call you at {number} when it is your turn. You "
        "keep your place in line, so you can hang up now. Goodbye.",
        "callback_slot_option": "To be called back {when}, press {key}.",
        "callback_booked": "Thank you. We will call you back {when}. Goodbye.",
        "callback_whisper": "Callback for {who}, about {topic}. They have waited {waited}. "
        "Connecting you now.",
        "callback_whisper_accept": "Callback for {who}, about {topic}. They have waited "
        "{waited}. Press 1 to call them now.",
        "agent_whisper": "Call from {who}, about {topic}. They have waited {waited}. "
        "Connecting you now.",
        "agent_whisper_accept": "Call from {who}, about {topic}. They have waited {waited}. "
        "Press 1 to take the call.",
        "callback_hello": "Hello, this is the support team returning your call. Please hold "
        "while we connect you.",
        "callback_not_reached": "We could not reach the customer. We will try again later.",
        "transferring": "Please hold while I transfer you. Your place in line is kept.",
        "agent_missed": "Sorry, that person could not take your call. You keep your place in line.",
        "wait_soon": "You should be connected in less than a minute.",
        "wait_minutes": "Your wait is about {minutes} minutes.",
        "wait_one_minute": "Your wait is about one minute.",
        "wait_unknown": "Everyone who can help with this is busy right now. Please stay on "
        "the line, or call back later.",
    },
    "es-US": {
        "next": "Usted es el siguiente. Gracias por esperar.",
        "position": "Usted es el número {position} en la fila. Gracias por esperar.",
        "sorry": "Lo sentimos, tuvimos un problema. Por favor, no cuelgue.",
        "still_here": "Gracias por esperar. Le comunicamos con una persona ahora.",
        "connecting": "Gracias por esperar. Le comunicamos ahora.",
        "callback_offer": "¿Prefiere no esperar? Oprima 1 y le devolveremos la llamada cuando "
        "sea su turno, sin perder su lugar. Oprima 2 para elegir una hora.",
        "callback_confirm": "Le llamaremos al {number}. Oprima 1 si es correcto, u oprima 2 "
        "para marcar otro número.",
        "callback_enter_number": "Marque el número al que debemos llamar, con el código de "
        "área, y luego oprima la tecla numeral.",
        "callback_bad_number": "Lo sentimos, no podemos llamar a ese número.",
        "callback_stay": "De acuerdo, por favor no cuelgue.",
        "callback_not_possible": "Lo sentimos, no podemos llamar a ese número. Por favor no "
        "cuelgue.",
        "callback_kept": "Gracias. Le llamaremos al {number} cuando sea su turno. Conserva su "
        "lugar en la fila, así que puede colgar. Adiós.",
        "callback_slot_option": "Para que le llamemos {when}, oprima {key}.",
        "callback_booked": "Gracias. Le devolveremos la llamada {when}. Adiós.",
        "callback_whisper": "Callback for {who}, about {topic}. They have waited {waited}. "
        "Connecting you now.",
        "callback_whisper_accept": "Callback for {who}, about {topic}. They have waited "
        "{waited}. Press 1 to call them now.",
        "agent_whisper": "Call from {who}, about {topic}. They have waited {waited}. "
        "Connecting you now.",
        "agent_whisper_accept": "Call from {who}, about {topic}. They have waited {waited}. "
        "Press 1 to take the call.",
        "callback_hello": "Hola, le llama el equipo de soporte para devolverle la llamada. "
        "Por favor espere mientras le comunicamos.",
        "callback_not_reached": "We could not reach the customer. We will try again later.",
        "transferring": "Por favor espere mientras le transfiero. Conserva su lugar en la fila.",
        "agent_missed": "Lo sentimos, esa persona no pudo atender su llamada. Usted conserva "
        "su lugar en la fila.",
        "wait_soon": "Le atenderemos en menos de un minuto.",
        "wait_minutes": "El tiempo de espera es de unos {minutes} minutos.",
        "wait_one_minute": "El tiempo de espera es de un minuto, aproximadamente.",
        "wait_unknown": "Todas las personas que pueden ayudarle están ocupadas. Por favor, "
        "espere en la línea o llame más tarde.",
    },
}


def prompt(name: str, language: str | None, **values: object) -> str:
    table = PROMPTS.get(language or "", PROMPTS["en-US"])
    return table[name].format(**values)


def language_or_default(language: str | None) -> str:
    return language if language in PROMPTS else "en-US"
