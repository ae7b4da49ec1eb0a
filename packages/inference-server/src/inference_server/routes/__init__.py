"""One APIRouter per area; `create_app` includes them, the legacy catch-all last."""
