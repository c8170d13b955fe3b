"""Package ownership checks at publish: one validator per registryType."""

from registry.ownership.base import OwnershipError
from registry.ownership.check import check_ownership

__all__ = ["OwnershipError", "check_ownership"]
