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
    # Stored as the plain string (mentor.affiliation, 20 characters at most): a new unsur needs
    # no migration. The order is the buttons' order at /start, "Lainnya" last.
    PSM = "psm"
    TKSK = "tksk"
    KUBE_MENTOR = "pendamping_kube"
    PKH_MENTOR = "pkh"
    KARANG_TARUNA = "karang_taruna"
    SOCIAL_ORGANISATION = "orsos"
    WPKS = "wpks"
    VILLAGE_OFFICER = "aparat_desa"
    OTHER = "other"


class BusinessType(StrEnum):
    LIVESTOCK = "ternak"
    FARMING = "pertanian"
    FISHERY = "perikanan"
    TRADE = "dagang"
    CRAFT = "kerajinan"
    PROCESSED_FOOD = "makanan_olahan"
    SERVICES = "jasa"
    SAVINGS_LOANS = "simpan_pinjam"
    SHOP = "warung"  # warung, e-Warong
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


class GroupStatus(StrEnum):
    """Whether a group still runs: an inactive group gets no visit reminders; a dissolved
    group's records stay, read-only."""

    ACTIVE = "aktif"
    INACTIVE = "tidak_aktif"
    DISSOLVED = "bubar"


class StatusReason(StrEnum):
    BUSINESS_STOPPED = "usaha_berhenti"
    MEMBERS_INACTIVE = "anggota_tidak_aktif"
    DISASTER = "bencana"
    OTHER = "lainnya"
    REACTIVATED = "aktif_kembali"


class ChangeKind(StrEnum):
    """What a row of a group's history (models.tables.GroupChange) is about."""

    STATUS = "status"
    STAGE = "stage"
    PROFILE = "profile"
    WELFARE = "welfare"  # a household's welfare category


class Sex(StrEnum):
    MALE = "l"
    FEMALE = "p"


class RegisterStatus(StrEnum):
    """Whether a household is in the national welfare register (DTKS, now DTSEN)."""

    YES = "ya"
    NO = "tidak"
    UNKNOWN = "tidak_tahu"


class LeaveReason(StrEnum):
    MOVED = "pindah"
    DIED = "meninggal"
    WITHDREW = "mengundurkan_diri"
    GRADUATED = "graduasi"  # sudah mampu: the programme's success, counted in reports
    OTHER = "lainnya"


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
    # A group's households read on the dashboard (its page, NIK and phone masked): a view,
    # not a change, kept because personal data was shown.
    DASHBOARD_VIEW = "dashboard_view"


class ErasureReason(StrEnum):
    """Why a member's personal data was erased (recorded in the audit trail, never free text)."""

    REQUEST = "permintaan"  # the household asked
    WITHDRAWN = "cabut"  # the household withdrew its consent
    MISTAKE = "keliru"  # entered by mistake


class GrantKind(StrEnum):
    """Today's programme: UEP from Kemensos, regional (APBD) grants, BLPS (the older
    programme), CSR and others. Rows from before 0007 said "stimulan" (see LEGACY_GRANT_KIND)."""

    UEP = "uep"
    REGIONAL = "daerah"
    BLPS = "blps"
    OTHER = "lainnya"


# The kind "stimulan" of older records and templates, by funding source.
LEGACY_GRANT_KIND = "stimulan"


def grant_kind_for_legacy(funding_source: str | None) -> GrantKind:
    """The kind an old "stimulan" grant is now: regional money makes it bantuan daerah, central
    money a UEP grant, anything else CSR/lainnya."""
    if funding_source in ("apbd_provinsi", "apbd_kabupaten"):
        return GrantKind.REGIONAL
    if funding_source in ("apbn", None):
        return GrantKind.UEP
    return GrantKind.OTHER


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
    NOT_REQUIRED = "tidak_wajib"  # a grant that need not be rolled over (rollover_required False)


class ReminderRule(StrEnum):
    VISIT_DUE = "visit_due"
    VISIT_OVERDUE = "visit_overdue"
    VISIT_ESCALATION = "visit_escalation"
    ROLLOVER_SOON = "rollover_soon"
    ROLLOVER_OVERDUE = "rollover_overdue"
    LPJ_SOON = "lpj_soon"
    LPJ_OVERDUE = "lpj_overdue"


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
