"""The plain-words table the apps show for each API error code, taken from docs/api.md's generated
error-code table (itself generated from every app's errors.py), so a new code reaches the apps'
screens with `python -m web.error_words` and a test fails until it has.
"""

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "api.md"
TARGET = ROOT / "web" / "frontend" / "src" / "shared" / "error-words.json"
ROW = re.compile(r"^\| [^|]+ \| \d{3} \| `([a-z_]+)` \| (.+) \|$")


def error_words() -> dict[str, str]:
    text = DOCS.read_text()
    table = text.split("<!-- error-codes:start", 1)[1].split("<!-- error-codes:end", 1)[0]
    words: dict[str, str] = {}
    for line in table.splitlines():
        if match := ROW.match(line.strip()):
            words.setdefault(match[1], match[2].replace("`", ""))  # a code's first area says it best
    return dict(sorted(words.items()))


def rendered() -> str:
    return json.dumps(error_words(), indent=1, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    TARGET.write_text(rendered())
    sys.stdout.write(f"{TARGET.relative_to(ROOT)}: {len(error_words())} codes\n")
