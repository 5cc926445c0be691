class BusinessRuleError(Exception):
    """A request that the rules refuse; views show its message and change nothing."""

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""
