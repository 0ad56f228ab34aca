"""Demo configuration: the seven ward offices (区役所) of Kitakyushu city.

Used to seed a development or demo server with data that looks like a real
municipal deployment: the same service catalogue in every ward (so ids and
ticket letters mean the same thing city-wide) and counter layouts that vary
with the size of the ward.
"""

from __future__ import annotations

from queue_server.office_config import Counter, Names, Office, Service

# Column order of every translation row below.
_Row = tuple[str, str, str, str, str]


def _names(row: _Row, easy: str | None = None) -> Names:
    ja, en, ko, zh, vi = row
    return Names.model_validate(
        {"ja": ja, "en": en, "ko": ko, "zh-Hans": zh, "vi": vi, "ja-easy": easy}
    )


_ID_DOCS: _Row = (
    "本人確認書類（マイナンバーカード・運転免許証など）",
    "Photo ID (My Number Card, driver's licence, etc.)",
    "신분증 (마이넘버 카드, 운전면허증 등)",
    "身份证明文件（个人编号卡、驾照等）",
    "Giấy tờ tùy thân (thẻ My Number, bằng lái xe, v.v.)",
)


def _plus_id(extra: _Row) -> _Row:
    """Most services need photo ID plus something specific; say the ID part once."""
    seps = ("・", ", ", ", ", "、", ", ")
    parts = zip(_ID_DOCS, seps, extra, strict=True)
    ja, en, ko, zh, vi = (f"{doc}{sep}{more}" for doc, sep, more in parts)
    return ja, en, ko, zh, vi


# id, letter, expected minutes, max wait, names, やさしい日本語 name, what to bring
# besides photo ID
_SERVICE_TABLE: list[tuple[str, str, int, int, _Row, str, _Row]] = [
    (
        "shomei",
        "A",
        6,
        20,
        (
            "証明書（住民票・印鑑登録・戸籍）",
            "Certificates (residence record, seal registration, family register)",
            "증명서 (주민표·인감 등록·호적)",
            "证明书（住民票·印章登记·户籍）",
            "Giấy chứng nhận (phiếu cư trú, đăng ký con dấu, hộ tịch)",
        ),
        "じゅうみんひょう など の しょうめいしょ",
        (
            "印鑑証明は印鑑登録証",
            "seal registration card for seal certificates",
            "인감증명은 인감등록증",
            "办理印章证明需带印章登记证",
            "thẻ đăng ký con dấu nếu xin chứng nhận con dấu",
        ),
    ),
    (
        "ido",
        "B",
        20,
        40,
        (
            "転入・転出・転居",
            "Moving in, moving out and change of address",
            "전입·전출·전거",
            "迁入·迁出·市内迁居",
            "Chuyển đến, chuyển đi và thay đổi địa chỉ",
        ),
        "ひっこし の てつづき",
        (
            "世帯全員のマイナンバーカード・転出証明書（転入の方）",
            "My Number Cards of the whole household, moving-out certificate (if moving in)",
            "세대 전원의 마이넘버 카드·전출증명서 (전입 시)",
            "全体家庭成员的个人编号卡、迁出证明（迁入时）",
            "thẻ My Number của cả hộ, giấy chứng nhận chuyển đi (khi chuyển đến)",
        ),
    ),
    (
        "mynumber",
        "C",
        15,
        30,
        (
            "マイナンバーカード",
            "My Number Card",
            "마이넘버 카드",
            "个人编号卡（My Number卡）",
            "Thẻ My Number",
        ),
        "まいなんばー かーど",
        (
            "交付通知書（はがき）",
            "the notification postcard",
            "교부통지서 (엽서)",
            "领取通知书（明信片）",
            "bưu thiếp thông báo nhận thẻ",
        ),
    ),
    (
        "koseki",
        "D",
        20,
        40,
        (
            "戸籍届出（出生・婚姻・死亡など）",
            "Family register notifications (birth, marriage, death, etc.)",
            "호적 신고 (출생·혼인·사망 등)",
            "户籍申报（出生·结婚·死亡等）",
            "Khai báo hộ tịch (khai sinh, kết hôn, khai tử, v.v.)",
        ),
        "うまれた・けっこん・なくなった とき の とどけ",
        (
            "届書（出生届は母子健康手帳も）",
            "the notification form (plus the maternal and child health handbook for births)",
            "신고서 (출생신고는 모자건강수첩도)",
            "申报书（出生申报还需母子健康手册）",
            "tờ khai (khai sinh cần thêm sổ tay sức khỏe mẹ và bé)",
        ),
    ),
    (
        "kokuho",
        "E",
        15,
        30,
        (
            "国民健康保険・年金",
            "National Health Insurance and pension",
            "국민건강보험·연금",
            "国民健康保险·国民年金",
            "Bảo hiểm y tế quốc dân và lương hưu",
        ),
        "けんこう ほけん と ねんきん",
        (
            "基礎年金番号通知書または年金手帳",
            "basic pension number notice or pension book",
            "기초연금번호 통지서 또는 연금수첩",
            "基础养老金编号通知书或养老金手册",
            "thông báo mã số lương hưu cơ bản hoặc sổ lương hưu",
        ),
    ),
    (
        "kosodate",
        "F",
        20,
        40,
        (
            "子育て・児童手当",
            "Childcare and child allowance",
            "육아·아동수당",
            "育儿·儿童津贴",
            "Nuôi dạy con và trợ cấp nhi đồng",
        ),
        "こども の てあて・こそだて",
        (
            "請求者名義の預金通帳",
            "bank book in the applicant's name",
            "신청자 명의의 예금통장",
            "申请人名下的存折",
            "sổ ngân hàng đứng tên người nộp đơn",
        ),
    ),
    (
        "kaigo",
        "G",
        25,
        45,
        (
            "介護・高齢者福祉",
            "Long-term care and elderly welfare",
            "개호(요양)·고령자 복지",
            "护理·老年人福利",
            "Chăm sóc điều dưỡng và phúc lợi người cao tuổi",
        ),
        "かいご・おとしより の ふくし",
        (
            "介護保険被保険者証",
            "long-term care insurance card",
            "개호보험 피보험자증",
            "护理保险被保险人证",
            "thẻ bảo hiểm chăm sóc điều dưỡng",
        ),
    ),
    (
        "zei",
        "H",
        8,
        20,
        ("税証明", "Tax certificates", "세금 증명서", "税务证明", "Giấy chứng nhận thuế"),
        "ぜいきん の しょうめいしょ",
        (
            "代理の方は委任状",
            "a letter of proxy if applying for someone else",
            "대리인은 위임장",
            "代理人需带委托书",
            "giấy ủy quyền nếu làm thay người khác",
        ),
    ),
    (
        "okuyami",
        "J",
        60,
        45,
        (
            "おくやみコーナー（ご遺族の手続き）",
            "Bereavement desk (procedures for bereaved families)",
            "유족 절차 창구 (오쿠야미 코너)",
            "遗属手续窗口（吊唁窗口）",
            "Quầy hỗ trợ thủ tục cho gia đình người đã mất",
        ),
        "かぞく が なくなった とき の てつづき",
        (
            "亡くなった方の保険証・印鑑",
            "the deceased's insurance cards and seal",
            "고인의 보험증·도장",
            "逝者的保险证、印章",
            "thẻ bảo hiểm và con dấu của người đã mất",
        ),
    ),
]

# Services that take appointments: id -> (slot minutes, people per slot).
# Feasible on every ward's layout (queue_server/feasibility.py): booked
# minutes per slot (people × expected minutes) fit the counters serving the
# service, with room left for its walk-ins. My Number once booked 3 × 15 =
# 45 minutes per 30 on its one counter (issue 11).
_BOOKING: dict[str, tuple[int, int]] = {
    "mynumber": (30, 1),
    "kosodate": (30, 1),
    "kaigo": (30, 1),
    "okuyami": (60, 1),
}
# Certificates a My Number card can also print at convenience stores, so the
# displays can point people there when the queue is long.
_KONBINI = frozenset({"shomei", "zei"})
# The bereavement desk is appointment-only: families are asked to book so the
# staff can prepare every form for them in advance.
_BOOKING_ONLY = frozenset({"okuyami"})


def _services() -> list[Service]:
    services = []
    for sid, letter, minutes, max_wait, row, easy, bring in _SERVICE_TABLE:
        slot_minutes, slot_capacity = _BOOKING.get(sid, (30, 1))
        services.append(
            Service(
                id=sid,
                names=_names(row, easy),
                letter=letter,
                expected_minutes=minutes,
                walk_in=sid not in _BOOKING_ONLY,
                bookable=sid in _BOOKING,
                slot_minutes=slot_minutes,
                slot_capacity=slot_capacity,
                max_wait_minutes=max_wait,
                bring=_names(_plus_id(bring)),
                konbini=sid in _KONBINI,
            )
        )
    return services


# Counter roles, services in priority order. The secondary services let idle
# staff pick up overflow from a busy neighbouring queue.
_ROLES: dict[str, list[str]] = {
    "cert": ["shomei", "zei"],
    "tax": ["zei", "shomei"],
    "move": ["ido", "shomei"],
    "mn": ["mynumber", "ido"],
    "koseki": ["koseki", "shomei"],
    # Small wards have no dedicated bereavement desk; the family register
    # counter takes those appointments.
    "koseki_okuyami": ["koseki", "okuyami", "shomei"],
    "health": ["kokuho", "kosodate"],
    "child": ["kosodate", "kokuho"],
    "care": ["kaigo", "kokuho"],
    "grief": ["okuyami", "koseki"],
}

_LAYOUT_LARGE = "cert cert cert tax move move mn koseki health child care grief"
_LAYOUT_MEDIUM = "cert cert move mn koseki health care grief"


def _counters(layout: str) -> list[Counter]:
    counters = []
    for number, role in enumerate(layout.split(), start=1):
        label: _Row = (
            f"{number}番窓口",
            f"Counter {number}",
            f"{number}번 창구",
            f"{number}号窗口",
            f"Quầy số {number}",
        )
        counters.append(
            Counter(
                id=str(number),
                names=_names(label, f"{number}ばん まどぐち"),
                services=list(_ROLES[role]),
            )
        )
    return counters


# Ward name as (kanji, romanised, Korean, simplified Chinese, kana reading).
_WARDS: dict[str, tuple[str, str, str, str, str]] = {
    "moji": ("門司", "Moji", "모지", "门司", "もじ"),
    "kokurakita": ("小倉北", "Kokurakita", "고쿠라키타", "小仓北", "こくらきた"),
    "kokuraminami": ("小倉南", "Kokuraminami", "고쿠라미나미", "小仓南", "こくらみなみ"),
    "wakamatsu": ("若松", "Wakamatsu", "와카마쓰", "若松", "わかまつ"),
    "yahatahigashi": ("八幡東", "Yahatahigashi", "야하타히가시", "八幡东", "やはたひがし"),
    "yahatanishi": ("八幡西", "Yahatanishi", "야하타니시", "八幡西", "やはたにし"),
    "tobata": ("戸畑", "Tobata", "도바타", "户畑", "とばた"),
}
# Postcode and street address of each ward office (Japanese, romanised).
_ADDRESSES: dict[str, tuple[str, str, str]] = {
    "moji": ("801-8510", "清滝一丁目1番1号", "1-1-1 Kiyotaki"),
    "kokurakita": ("803-8510", "大手町1番1号", "1-1 Otemachi"),
    "kokuraminami": ("802-8510", "若園五丁目1番2号", "5-1-2 Wakazono"),
    "wakamatsu": ("808-8510", "浜町一丁目1番1号", "1-1-1 Hamamachi"),
    "yahatahigashi": ("805-8510", "中央一丁目1番1号", "1-1-1 Chuo"),
    "yahatanishi": ("806-8510", "黒崎三丁目15番3号", "3-15-3 Kurosaki"),
    "tobata": ("804-8510", "千防一丁目1番1号", "1-1-1 Senbo"),
}
# Counter layouts follow ward population: Kokurakita and Yahatanishi are the
# busiest, Wakamatsu and Tobata the quietest.
_LAYOUTS: dict[str, str] = {
    "moji": _LAYOUT_MEDIUM,
    "kokurakita": _LAYOUT_LARGE,
    "kokuraminami": "cert cert tax move move mn koseki health care grief",
    "wakamatsu": "cert cert move mn koseki_okuyami health care",
    "yahatahigashi": _LAYOUT_MEDIUM,
    "yahatanishi": _LAYOUT_LARGE,
    "tobata": "cert move mn koseki_okuyami health care",
}


def demo_offices() -> list[Office]:
    """Return the seven Kitakyushu ward offices as validated `Office` models."""
    offices = []
    for oid, (ja, en, ko, zh, kana) in _WARDS.items():
        postcode, street_ja, street_en = _ADDRESSES[oid]
        name: _Row = (
            f"{ja}区役所",
            f"{en} Ward Office",
            f"{ko} 구청",
            f"{zh}区政府",
            f"Văn phòng quận {en}",
        )
        # Street addresses have no meaningful translation, so the other
        # languages reuse the romanised form.
        address_en = f"{street_en}, {en}-ku, Kitakyushu, Fukuoka {postcode}"
        address: _Row = (
            f"〒{postcode} 福岡県北九州市{ja}区{street_ja}",
            address_en,
            address_en,
            address_en,
            address_en,
        )
        offices.append(
            Office(
                id=oid,
                names=_names(name, f"{kana} くやくしょ"),
                address=_names(address),
                services=_services(),
                counters=_counters(_LAYOUTS[oid]),
            )
        )
    return offices
