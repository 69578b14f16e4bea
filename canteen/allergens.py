"""How an allergen is written where people read it (labels, prep lists, notices): its FSANZ name in capitals."""

from canteen.models import Allergen


def allergen_label(code: str) -> str:
    """`tree_nut` -> `TREE NUT`, `gluten` -> `WHEAT / GLUTEN`. An unknown code is still printed, never dropped."""
    try:
        return str(Allergen(code).label).upper()
    except ValueError:
        return str(code).replace("_", " ").upper()
