"""Over-the-counter sales at recess: items charged to a student card, with the child's food rules applied."""

from canteen import menus, queries
from canteen.errors import AllergenConflict, ItemBanned, ItemUnavailable
from canteen.models import FoodProfile
from wallet import cards
from wallet.card_identifiers import card_identifier_hash
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
    quantities: dict[int, int] = {}
    for line in lines:
        quantities[line.item_id] = quantities.get(line.item_id, 0) + line.quantity
    # The card, the items and the child's food profile in one read; the card decides first.
    read = queries.counter_sale_reads(
        card_identifier_hash=card_identifier_hash(card_identifier), merchant_id=terminal.merchant_id,
        school_id=terminal.merchant.school_id, item_ids=list(quantities),
    )
    if read.card is None:
        raise UnknownCard()
    card, student = read.card, read.card.student
    items = {item.pk: item for item in read.items}
    missing = sorted(set(quantities) - set(items))
    if missing:  # a merchant serving no school finds no item
        raise ItemUnavailable(item_ids=missing)
    profile = read.profile or FoodProfile(student=student)  # a child with none declares nothing
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
