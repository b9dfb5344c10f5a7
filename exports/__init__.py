"""Pure functions from a proposal snapshot to document bytes (Word, workbook).

No database or HTTP access inside; ``proposals/`` calls these.
"""
