from __future__ import annotations

import pytest
from pagewise.documents.language import detect_language


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "El arrendador cede al arrendatario el uso de la vivienda situada en la calle Mayor, "
            "y el arrendatario se obliga a pagar la renta por meses.",
            "es",
        ),
        (
            "The tenant shall pay the rent on the first day of each month and is liable for "
            "damage to the property caused by the tenant or by guests.",
            "en",
        ),
        (
            "Le locataire est tenu de payer le loyer et les charges aux termes convenus dans "
            "le contrat, et de user des locaux pour la destination prévue.",
            "fr",
        ),
        (
            "Der Mieter ist verpflichtet, die Miete für den Monat im Voraus zu zahlen, und es "
            "ist ihm nicht gestattet, die Wohnung mit anderen zu teilen.",
            "de",
        ),
    ],
)
def test_the_language_of_a_legal_paragraph(text: str, expected: str) -> None:
    assert detect_language(text) == expected


@pytest.mark.parametrize("text", ["", "12345 67890", "Contrato", "OK OK OK"])
def test_too_little_text_is_unknown(text: str) -> None:
    assert detect_language(text) is None


def test_spanish_is_not_taken_for_catalan() -> None:
    text = (
        "CONTRATO DE ARRENDAMIENTO. Primera. El arrendador cede al arrendatario el uso de la "
        "vivienda situada en la calle Mayor 5. Segunda. La renta mensual es de ochocientos "
        "euros, pagadera dentro de los cinco primeros dias de cada mes."
    )
    assert detect_language(text) == "es"
