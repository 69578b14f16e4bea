"""Over-the-counter sales at recess: items charged to a student card, with the child's food rules applied."""

from canteen import menus, queries
from canteen.errors import AllergenConflict, ItemBanned, ItemUnavailable
from canteen.models import FoodProfile
from wallet import cards
from wallet.charge_categories import charge_categories
from wallet.errors import UnknownCard
from wallet.models import MerchantCategory, Terminal


def counter_sale(*, terminal: Terminal, card_identifier: str, lines, idempotency_key: str):
    """Sell items to the card's holder. A declared allergen or a banned item declines the sale, like a cap would.

    Returns (ChargeApproved, priced lines). Items must belong to the school the
    terminal's merchant serves; the card's school must have enabled the merchant (else: unknown card,
    before any of the child's food rules could say whose card it is).
    """
    # Decided before the card is read, so a merchant not registered for canteen learns nothing about it.
    categories = charge_categories(merchant=terminal.merchant, requested=[MerchantCategory.CANTEEN])
    card = cards.card_for_merchant(card_identifier, terminal.merchant)
    if card is None:
        raise UnknownCard()
    student = card.student
    school_id = terminal.merchant.school_id
    quantities: dict[int, int] = {}
    for line in lines:
        quantities[line.item_id] = quantities.get(line.item_id, 0) + line.quantity
    found, profile = queries.active_items_with_profile(school_id, list(quantities), student.pk) if school_id is not None else ([], None)
    items = {item.pk: item for item in found}
    missing = sorted(set(quantities) - set(items))
    if school_id is None or missing:
        raise ItemUnavailable(item_ids=missing or sorted(quantities))
    profile = profile or FoodProfile(student=student)  # a child with none declares nothing
    conflicts = [
        {"item_id": item.pk, "name": item.name, "allergens": menus.conflicts_for(item, profile)}
        for item in items.values()
        if menus.conflicts_for(item, profile)
    ]
    if conflicts:
        raise AllergenConflict(f"{student.first_name} has a declared allergy to an item in this sale.", conflicts=conflicts)
    banned = sorted(item.pk for item in items.values() if menus.is_banned(item, profile))
    if banned:
        raise ItemBanned(item_ids=banned)
    priced = [menus.PricedLine(items[item_id], quantity) for item_id, quantity in sorted(quantities.items())]
    description = ", ".join(f"{line.quantity} x {line.menu_item.name}" for line in priced)
    approved = cards.card_charge(
        terminal=terminal,
        card_identifier=card_identifier,
        amount=sum(line.line_total for line in priced),
        categories=categories,
        description=description[:200],
        idempotency_key=idempotency_key,
        card=card,
    )
    return approved, priced
