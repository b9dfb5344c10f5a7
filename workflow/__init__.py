"""State machines of Engage (proposal, section) kept as data.

No HTTP and no database here: ``proposals/`` imports ``workflow/``, never the
other way round. The machines arrive with the consortium issue.
"""
