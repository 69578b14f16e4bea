"""Which categories a card charge is in: decided from the merchant's registration, never widened by the terminal.

The rule (docs/api.md, "Card charges: categories and who may charge a card"):

- A merchant is registered for one or more categories (`Merchant.categories`, set by Tuckbox, not by a terminal).
- A terminal may send `categories` to narrow the charge to some of those. Every category it names must be
  registered, or the charge is refused with `category_not_registered` (422): naming another category can
  never move a sale out of reach of a guardian's ban.
- Sending none (or an empty list) means "all of them" only when that is one category. A merchant registered
  for several must name which, or the charge is refused with `category_required` (422): an unnamed charge at
  a canteen-and-uniform shop is not quietly filed under whichever category is not banned.

A guardian's ban then declines the charge if any of its categories is banned.
"""

from wallet.errors import CategoryNotRegistered, CategoryRequired
from wallet.models import Merchant


def charge_categories(*, merchant: Merchant, requested: list[str] | None) -> list[str]:
    """The charge's categories, sorted: the merchant's registered ones, narrowed to `requested` if given."""
    registered = sorted(set(merchant.categories))
    if not requested:
        if len(registered) != 1:
            raise CategoryRequired(registered=registered)
        return registered
    unregistered = sorted(set(requested) - set(registered))
    if unregistered:
        raise CategoryNotRegistered(
            f"{merchant.name} is registered for {', '.join(registered)}, not {', '.join(unregistered)}.",
            categories=unregistered,
            registered=registered,
        )
    return sorted(set(requested))
