"""Settings of the match-result recorder (environment variables ``MALGEUL_OCR_*``)."""

from pydantic import Field, SecretStr

from common.settings import ServiceSettings, service_config


class OcrSettings(ServiceSettings):
    """Engines, thresholds and limits of the OCR service; every field is `MALGEUL_OCR_<NAME>`."""

    model_config = service_config("MALGEUL_OCR_")

    port: int = 8002
    tessdata: str = Field(default="/usr/share/tesseract-ocr/5/tessdata/", description="Tesseract model folder.")
    text_lang: str = Field(default="Hangul+eng", description="Tesseract languages for nicknames and words.")
    workers: int = Field(default=2, ge=1, le=16, description="Tesseract workers (images read at once).")
    min_confidence: float = Field(default=0.8, ge=0.0, le=1.01,
                                  description="Fields read with less confidence go to the fallback engines.")
    rapidocr: bool = Field(default=True, description="Use RapidOCR as the local fallback engine.")
    cloud_url: str = Field(default="", description="Google Cloud Vision images:annotate URL (empty: Google's).")
    cloud_key: SecretStr = Field(default=SecretStr(""), description="Cloud Vision API key; empty disables the cloud fallback.")
    cloud_timeout: float = Field(default=5.0, gt=0, description="Seconds to wait for the cloud engine.")
    roster_min_similarity: float = Field(default=0.6, ge=0.0, le=1.0,
                                         description="Least normalised edit similarity to correct to a given roster name.")
    db_roster_min_similarity: float = Field(default=0.8, ge=0.0, le=1.0,
                                            description="The same for players already in the database (no roster given).")
    max_pixels: int = Field(default=40_000_000, description="Largest image (pixels) accepted.")
    max_side: int = Field(default=4000, description="Longer images are downscaled to this side first.")
