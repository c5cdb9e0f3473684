from config.exceptions import Conflict, InvalidInput


class InsufficientStock(Conflict):
    default_message = "Not enough stock."


class InvalidStockChange(InvalidInput):
    default_message = "Invalid stock change."


class InvalidCatalogInput(InvalidInput):
    default_message = "Invalid catalog data."


class CatalogConflict(Conflict):
    default_message = "The catalog change conflicts with its current state."
