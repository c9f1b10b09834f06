"""flyte-types-pydantic: Pydantic v2 models (``pydantic.BaseModel`` subclasses) as task inputs and outputs.

Nothing to import for users: once the distribution is installed, any task annotated with a
``BaseModel`` subclass passes its values as JSON (``model_dump(mode="json")``) and validates them
again (``model_validate_json``) in the task that receives them. The transformer itself lives in
:mod:`flyte_types_pydantic.transformer`; the hook in :mod:`flyte_types_pydantic.plugin`.
"""

from __future__ import annotations

__all__: list[str] = []
