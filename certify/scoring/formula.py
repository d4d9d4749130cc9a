"""Formulas of computed indicators: ``E / Q``, ``Vr / (V + Vr) * 100``.

A rule file defines a computed indicator by the values it is calculated from (its inputs) and
the standard's formula; the applicant reports the inputs and the engine computes the ratio, so
that a score always rests on the figures behind it. Formulas are arithmetic only (``+ - * /``,
parentheses, decimal numbers and input names), parsed once and evaluated in ``Decimal``: numbers
are read from their text, never through a float.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from decimal import Decimal, DivisionByZero, InvalidOperation

_OPERATORS: dict[type, Callable[[Decimal, Decimal], Decimal]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
}


class FormulaError(ValueError):
    """A formula a rule file may not use; the message says why."""


class ZeroDivisor(ArithmeticError):
    """The inputs make the formula divide by zero; ``name`` is the expression divided by."""

    def __init__(self, divisor: str):
        self.divisor = divisor
        super().__init__(f"{divisor} is 0")


class Formula:
    """A parsed formula: ``names`` it uses, ``evaluate(values)`` with a ``Decimal`` per name."""

    def __init__(self, text: str):
        self.text = text
        try:
            tree = ast.parse(text.strip(), mode="eval")
        except SyntaxError as error:
            raise FormulaError(f"cannot be read: {error.msg}") from None
        self.names: set[str] = set()
        self._evaluate = self._compile(tree.body)

    def evaluate(self, values: Mapping[str, Decimal]) -> Decimal:
        try:
            return self._evaluate(values)
        except (DivisionByZero, InvalidOperation, ZeroDivisionError):
            raise ZeroDivisor(self.text) from None

    def _compile(self, node: ast.AST) -> Callable[[Mapping[str, Decimal]], Decimal]:
        if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
            operate, left, right = _OPERATORS[type(node.op)], self._compile(node.left), self._compile(node.right)
            divisor = ast.unparse(node.right) if isinstance(node.op, ast.Div) else None

            def binary(values):
                right_value = right(values)
                if divisor is not None and right_value == 0:
                    raise ZeroDivisor(divisor)
                return operate(left(values), right_value)

            return binary
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            operand, negate = self._compile(node.operand), isinstance(node.op, ast.USub)
            return lambda values: -operand(values) if negate else operand(values)
        if isinstance(node, ast.Name):
            self.names.add(node.id)
            name = node.id
            return lambda values: values[name]
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            number = Decimal(ast.get_source_segment(self.text.strip(), node) or repr(node.value))
            return lambda values: number
        raise FormulaError(f"may use only numbers, input names, + - * / and parentheses, not {ast.unparse(node)!r}")
