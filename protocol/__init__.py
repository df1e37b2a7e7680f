"""What the service and the trainer share besides the science: the wire formats they
exchange (sweep requests, run records, progress events) and how their command lines
report errors. It imports ``fitting`` and pydantic, never ``service`` or ``trainer``;
both of those import it.
"""
