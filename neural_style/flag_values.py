"""What every tool's settings share: built once from the command line's flags (argparse's values,
by their dests), frozen, and read by everything below the command line. No MXNet, no argparse."""
import dataclasses


def frozen(value):
    """Lists become tuples, so that settings stay hashable and cannot be changed in place."""
    if isinstance(value, list):
        return tuple(frozen(item) for item in value)
    return value


class FromFlags:
    """A frozen dataclass whose fields are flags' dests: from_values(vars(namespace)) builds it, and
    a key that is not a field (another tool's flag) is left to the caller."""

    @classmethod
    def from_values(cls, values):
        names = {field.name for field in dataclasses.fields(cls)}
        return cls(**{name: frozen(value) for name, value in values.items() if name in names})
