"""Document inputs generated on the fly (no binary fixtures in the repo).

A uniquely named module rather than conftest.py, so tests can import the helpers without
colliding with other directories' conftest modules.
"""

from __future__ import annotations

import io
import random

import pymupdf
from PIL import Image, ImageChops, ImageFilter

LEGAL_LINES = [
    "This lease agreement is made between the landlord and the tenant.",
    "The tenant shall pay the monthly rent on the first day of each month.",
    "Either party may terminate this agreement with ninety days written notice.",
    "This agreement is governed by the laws of the Kingdom of Spain.",
]


# One legal paragraph per language we ship a Tesseract pack for (ISO 639-1 keys), with the
# accents, cedillas and quotes each language uses.
PARAGRAPHS = {
    "en": (
        "This lease agreement is made on the fourteenth day of March between the landlord, a "
        "company registered in England, and the tenant, who declares that he has full legal "
        "capacity to enter into this agreement. The tenant shall pay the monthly rent within "
        "the first five days of each month. Either party may terminate this agreement with "
        "ninety days written notice, and the deposit shall be returned within thirty days."
    ),
    "es": (
        "En la ciudad de Madrid, a catorce de marzo, comparecen de una parte don José Martínez "
        "Núñez, mayor de edad, con domicilio en la calle Alcalá número veintiséis, y de otra "
        "parte doña María Ibáñez Gómez, quien actúa en nombre de la sociedad arrendadora. "
        "Ambas partes se reconocen capacidad legal suficiente para otorgar el presente "
        "contrato. ¿Podrá el arrendador resolver el contrato? Sí, cuando concurra alguna de "
        "las causas previstas en la ley."
    ),
    "fr": (
        "Entre les soussignés, la société dénommée ci-après « le bailleur », dont le siège "
        "social est situé à Paris, et Monsieur François Lefèvre, ci-après « le preneur », il a "
        "été convenu ce qui suit. Le présent bail est consenti pour une durée de neuf années "
        "entières et consécutives. Le loyer sera payable par trimestre et d'avance. En cas de "
        "défaut de paiement, le bail sera résilié de plein droit un mois après un commandement "
        "demeuré sans effet."
    ),
    "de": (
        "Zwischen der Firma Müller GmbH, vertreten durch ihren Geschäftsführer, nachstehend "
        "Vermieter genannt, und Herrn Jürgen Schäfer, nachstehend Mieter genannt, wird folgender "
        "Mietvertrag geschlossen. Der Vermieter vermietet dem Mieter die im Erdgeschoss "
        "gelegenen Räume zur Nutzung als Büro. Die Miete ist monatlich im Voraus, spätestens am "
        "dritten Werktag des Monats, zu zahlen. Eine Kündigung bedarf der Schriftform und ist "
        "nur aus wichtigem Grund zulässig."
    ),
    "it": (
        "Tra la società Rossi, con sede legale in Milano, in persona del suo legale "
        "rappresentante, di seguito denominata locatore, e il signor Niccolò Bianchi, di "
        "seguito denominato conduttore, si conviene e si stipula quanto segue. Il locatore "
        "concede in locazione al conduttore, che accetta, l'immobile sito al piano terra. La "
        "durata del contratto è stabilita in quattro anni. Il canone sarà corrisposto in rate "
        "mensili anticipate entro il giorno cinque di ciascun mese."
    ),
    "pt": (
        "Entre as partes abaixo identificadas, a sociedade Silva e Filhos, com sede em Lisboa, "
        "doravante designada por senhorio, e o senhor João Conceição, doravante designado por "
        "arrendatário, é celebrado o presente contrato de arrendamento, que se rege pelas "
        "cláusulas seguintes. O contrato é celebrado pelo prazo de cinco anos. A renda mensal "
        "será paga até ao oitavo dia do mês anterior. A falta de pagamento da renda confere ao "
        "senhorio o direito de resolver o contrato."
    ),
    "ca": (
        "D'una banda, la societat Puig i Associats, amb domicili social a Barcelona, "
        "representada pel seu administrador, d'ara endavant l'arrendador, i de l'altra, el "
        "senyor Jordi Vilaró i Castells, d'ara endavant l'arrendatari, acorden subscriure aquest "
        "contracte d'arrendament d'acord amb les clàusules següents. La durada del contracte "
        "serà de cinc anys. La renda mensual s'haurà de pagar dins dels set primers dies de "
        "cada mes."
    ),
}


def text_pdf(lines: list[str], pages: int = 1) -> pymupdf.Document:
    """A born-digital PDF: each page carries ``lines`` as a real text layer."""
    doc = pymupdf.open()
    for _ in range(pages):
        page = doc.new_page()  # default 595 x 842 pt
        page.insert_text((72, 96), "\n".join(lines), fontsize=12, fontname="helv")
    return doc


def scanned_pdf(lines: list[str], dpi: int = 300) -> bytes:
    """An image-only PDF page: the text PDF rasterised at ``dpi``, as a scanner would."""
    source = text_pdf(lines)
    pix = source[0].get_pixmap(dpi=dpi, colorspace=pymupdf.csGRAY)
    out = pymupdf.open()
    page = out.new_page(width=source[0].rect.width, height=source[0].rect.height)
    page.insert_image(page.rect, pixmap=pix)
    return out.tobytes()


def page_image(lines: list[str], dpi: int = 300) -> pymupdf.Pixmap:
    """A greyscale page image that records its resolution, like a scanner's output."""
    pix = text_pdf(lines)[0].get_pixmap(dpi=dpi, colorspace=pymupdf.csGRAY)
    pix.set_dpi(dpi, dpi)
    return pix


def multipage_tiff(pages: list[list[str]], dpi: int = 100) -> bytes:
    """A multi-page TIFF (Pillow, a reportlab dependency, writes multi-page TIFFs)."""
    frames = [page_image(lines, dpi=dpi).pil_image() for lines in pages]
    buf = io.BytesIO()
    frames[0].save(buf, format="TIFF", save_all=True, append_images=frames[1:], dpi=(dpi, dpi))
    return buf.getvalue()


def encrypt_pdf(data: bytes, *, user_pw: str | None) -> bytes:
    """AES-256 encrypt a PDF; with ``user_pw=None`` only an owner password is set."""
    doc = pymupdf.open(stream=data, filetype="pdf")
    # The constant exists at runtime but is missing from PyMuPDF's type information.
    aes_256 = pymupdf.PDF_ENCRYPT_AES_256  # type: ignore[attr-defined]
    if user_pw is None:
        return doc.tobytes(encryption=aes_256, owner_pw="owner")
    return doc.tobytes(encryption=aes_256, owner_pw="owner", user_pw=user_pw)


# --- generated scans with known text -----------------------------------------------------------


def born_digital(text: str, *, fontsize: float = 11, width: float = 595) -> pymupdf.Document:
    """One born-digital page holding ``text`` wrapped in a box, the page just tall enough."""
    margin = 36.0
    probe = pymupdf.open().new_page(width=width, height=2000)
    box = pymupdf.Rect(margin, margin, width - margin, 2000 - margin)
    unused = probe.insert_textbox(box, text, fontsize=fontsize, fontname="helv")
    assert unused >= 0, "text does not fit"
    height = 2000 - unused + margin / 2
    doc = pymupdf.open()
    page = doc.new_page(width=width, height=height)
    page.insert_textbox(
        pymupdf.Rect(margin, margin, width - margin, height),
        text,
        fontsize=fontsize,
        fontname="helv",
    )
    return doc


def outlined(doc: pymupdf.Document) -> bytes:
    """The first page with its text turned into vector outlines: it looks the same, but has no
    text layer (what "convert text to curves" in a print workflow produces)."""
    svg = doc[0].get_svg_image(text_as_path=True)
    return pymupdf.open("svg", svg.encode()).convert_to_pdf()


def normalised(text: str) -> str:
    """Whitespace collapsed: line and paragraph breaks are layout, not characters."""
    return " ".join(text.split())


def scan(
    page: pymupdf.Page,
    *,
    dpi: int = 300,
    rotate: int = 0,
    skew: float = 0.0,
    noise: float = 0.0,
    seed: int = 7,
) -> pymupdf.Pixmap:
    """The page as a greyscale scan at ``dpi``: fed in turned by ``rotate`` degrees
    (clockwise), ``skew`` degrees off straight, and with Gaussian noise of standard deviation
    ``noise`` grey levels, a slight blur and dust specks when ``noise`` is set."""
    matrix = pymupdf.Matrix(dpi / 72, dpi / 72).prerotate(rotate + skew)
    pix = page.get_pixmap(matrix=matrix, colorspace=pymupdf.csGRAY, alpha=False)
    if noise:
        image = pix.pil_image().filter(ImageFilter.GaussianBlur(0.6))
        grain = Image.effect_noise(image.size, noise)
        image = ImageChops.add(image, grain, scale=1.0, offset=-128)
        rng = random.Random(seed)
        pixels = image.load()
        assert pixels is not None
        for _ in range(image.width * image.height // 2000):
            pixels[rng.randrange(image.width), rng.randrange(image.height)] = rng.choice((0, 255))
        buf = io.BytesIO()
        image.save(buf, format="PNG")
        pix = pymupdf.Pixmap(buf.getvalue())
    pix.set_dpi(dpi, dpi)
    return pix


def image_pdf(pix: pymupdf.Pixmap, dpi: int = 300) -> pymupdf.Document:
    """An image-only PDF page showing ``pix`` at ``dpi``, as a scanner would write it."""
    doc = pymupdf.open()
    page = doc.new_page(width=pix.width * 72 / dpi, height=pix.height * 72 / dpi)
    page.insert_image(page.rect, pixmap=pix)
    return doc


DEJAVU_SANS = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def unmapped_font_pdf(text: str) -> bytes:
    """A page that shows ``text`` in an embedded font with no ToUnicode map: it looks right,
    but its text layer is glyph ids (``(O\x03DUUHQGDWDULR`` for "El arrendatario"), what
    PDFs with subset fonts and a lost ToUnicode give."""
    doc = pymupdf.open()
    page = doc.new_page(width=420, height=120)
    page.insert_font(fontname="dejavu", fontfile=DEJAVU_SANS)
    page.insert_text((36, 60), text, fontsize=11, fontname="dejavu")
    for xref in range(1, doc.xref_length()):
        if doc.xref_get_key(xref, "ToUnicode")[0] != "null":
            doc.xref_set_key(xref, "ToUnicode", "null")
    return doc.tobytes()


def levenshtein(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def char_error_rate(expected: str, actual: str) -> float:
    # Compare with whitespace normalised: line/paragraph breaks are layout, not characters.
    exp, act = " ".join(expected.split()), " ".join(actual.split())
    return levenshtein(exp, act) / len(exp)
