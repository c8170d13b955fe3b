"""Signals for derived views of trust (catalog membership gated on trust policies)."""

from django.dispatch import Signal

# Sent INSIDE the writing transaction whenever trust evidence may have changed: the verified
# signers of these versions (`version_ids`: set[int]), or the definition of these policies
# (`policies`: set[str] of slugs: threshold, principals, accepted claims, or deleted).
# Receivers bring what they derive from trust up to date in the same transaction, so a
# reader never sees the change committed without them (fail closed on a revoked signer).
trust_changed = Signal()
