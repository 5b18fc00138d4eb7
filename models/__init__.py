"""Tables and query functions. Every query takes a keyword-only ``session``."""

from models.tables import (  # noqa: F401
    Area,
    AuditLog,
    Broadcast,
    BroadcastRecipient,
    ConversationState,
    Grant,
    Group,
    HandledUpdate,
    Invite,
    Member,
    Mentor,
    Reminder,
    ReminderDelivery,
    Rollover,
    UserData,
    Visit,
    utcnow,
)
