"""Closed vocabularies of the programme. Values are stored as plain strings (portable, easy migrations)."""

from enum import IntEnum, StrEnum


class Role(StrEnum):
    MENTOR = "mentor"
    COORDINATOR = "coordinator"
    ADMIN = "admin"


class MentorStatus(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    INACTIVE = "inactive"
    REJECTED = "rejected"


class Affiliation(StrEnum):
    PSM = "psm"
    TKSK = "tksk"
    KARANG_TARUNA = "karang_taruna"
    SOCIAL_ORGANISATION = "orsos"
    WPKS = "wpks"
    OTHER = "other"


class BusinessType(StrEnum):
    LIVESTOCK = "ternak"
    FARMING = "pertanian"
    FISHERY = "perikanan"
    TRADE = "dagang"
    CRAFT = "kerajinan"
    PROCESSED_FOOD = "makanan_olahan"
    SERVICES = "jasa"
    OTHER = "lainnya"


class BindingTie(StrEnum):
    PROXIMITY = "kedekatan"
    SAME_TRADE = "jenis_usaha"
    RESOURCES = "sumber"
    CULTURE = "budaya"
    MOTIVATION = "motivasi"
    EXISTING_GROUP = "kelompok_lama"


class Stage(StrEnum):
    GROWING = "tumbuh"
    DEVELOPING = "berkembang"
    INDEPENDENT = "mandiri"


class WelfareCategory(StrEnum):
    POOREST = "fakir_miskin"
    POOR = "miskin"
    NEAR_POOR = "hampir_miskin"


class MemberRole(StrEnum):
    CHAIR = "ketua"
    SECRETARY = "sekretaris"
    TREASURER = "bendahara"
    MEMBER = "anggota"


OFFICER_ROLES = (MemberRole.CHAIR, MemberRole.SECRETARY, MemberRole.TREASURER)


class Activity(StrEnum):
    SKILLS_TRAINING = "pelatihan"
    BUSINESS_MONITORING = "pemantauan"
    BOOKKEEPING = "pembukuan"
    MARKETING = "pemasaran"
    CAPITAL_ACCESS = "permodalan"
    SOCIAL_SERVICES = "layanan_sosial"
    GROUP_STRENGTHENING = "penguatan"
    PROBLEM_SOLVING = "masalah"


class AreaLevel(IntEnum):
    PROVINCE = 1
    REGENCY = 2
    DISTRICT = 3
    VILLAGE = 4


class AuditAction(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    ERASE = "erase"  # a member's personal data removed on request (/hapus_anggota)


class ErasureReason(StrEnum):
    """Why a member's personal data was erased (recorded in the audit trail, never free text)."""

    REQUEST = "permintaan"  # the household asked
    WITHDRAWN = "cabut"  # the household withdrew its consent
    MISTAKE = "keliru"  # entered by mistake


class GrantKind(StrEnum):
    STIMULUS = "stimulan"
    BLPS = "blps"
    OTHER = "lainnya"


class FundingSource(StrEnum):
    APBN = "apbn"
    APBD_PROVINCE = "apbd_provinsi"
    APBD_REGENCY = "apbd_kabupaten"
    PRIVATE = "csr"
    OTHER = "lainnya"


class GrantForm(StrEnum):
    CASH = "tunai"
    GOODS = "barang"


class RecipientKind(StrEnum):
    HOUSEHOLD = "kk"
    GROUP = "kelompok"


class RolloverStatus(StrEnum):
    NOT_STARTED = "belum"
    PARTIAL = "sebagian"
    DONE = "selesai"
    LATE = "terlambat"


class ReminderRule(StrEnum):
    VISIT_DUE = "visit_due"
    VISIT_OVERDUE = "visit_overdue"
    VISIT_ESCALATION = "visit_escalation"
    ROLLOVER_SOON = "rollover_soon"
    ROLLOVER_OVERDUE = "rollover_overdue"


class ReminderStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"  # expanded into deliveries
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    BLOCKED = "blocked"
    FAILED = "failed"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class Audience(StrEnum):
    ALL_MENTORS = "semua"
    DISTRICT = "kecamatan"
    OVERDUE = "terlambat"
    COORDINATORS = "koordinator"


class BroadcastStatus(StrEnum):
    DRAFT = "draft"
    SENDING = "sending"
    DONE = "done"
    CANCELLED = "cancelled"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    BLOCKED = "blocked"
