#!/usr/bin/env python3
"""Builds the sector checklist packs (checklists/*.json) from the reference criteria.json.

Usage: python3 checklists/build.py PATH/TO/criteria.json [OUT_DIR]

Every item of criteria.json lands in exactly one pack as an "origin" item, with its clause,
prompt, major flag, evidence hint and `check` status carried unchanged. Items are grouped the
way an inspector walks a site (documents first, then surface, then the workings), and each
sector gets a group of common 一般隐患 points (通用要点) that are not tied to a clause.

The open-pit coal pack re-lists the management clauses of the coal standard that also apply to
open-pit mines (criteria.md §1.1); those copies carry `same_as` pointing at the origin item in
the underground pack, so counts by criterion stay exact.

Item ids are derived from the clause (`coal-ug-8-03` = 第八条（三）). Once published an id must
never change: if a clause is corrected later, pin the old id in ID_OVERRIDES.

Version 2 adds to every item its 隐患描述 (`statement`, from reference/statements.json: the
violation stated, never the question) and to every standard its `editions` with the day each came
into force, so a finding cites the edition in force on its date. An edition in force whose text
was not found has `text_found: false`: findings cite it with the older edition's clause numbers
and 条文待核.

Version 2 also reads research notes in reference/: non-coal-2022-2024.json (88号: where each
non-coal clause was read, and which clauses were read in full) and fireworks-121.json (the
fireworks part of 121号, added to the hazardous-chemicals pack as groups shown only to an
enterprise that declares 烟花爆竹, each citing that standard); see build_ncm_v2 / build_hc_v2.
Standard library only; output is deterministic (sorted keys are not used, order is meaningful).
"""

import json
import os
import re
import sys

PACK_VERSION = 2

HERE = os.path.dirname(os.path.abspath(__file__))

CN_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}

# (pack id, origin clause) -> id, for clauses corrected after their id was published.
ID_OVERRIDES = {}


def cn2int(s):
    """Chinese numerals up to 99: 十 → 10, 二十七 → 27."""
    if s == "十":
        return 10
    if "十" in s:
        tens, _, ones = s.partition("十")
        return (CN_DIGITS[tens] if tens else 1) * 10 + (CN_DIGITS[ones] if ones else 0)
    return CN_DIGITS[s]


def article_of(clause):
    """第八条（三） → (8, '03'); 第十条 → (10, None); 第六条（?） → (6, '?')."""
    m = re.match(r"第(.+?)条(?:（(.+?)）)?", clause)
    if not m:
        raise ValueError("unparsed clause " + clause)
    art = cn2int(m.group(1))
    sub = m.group(2)
    if sub is None:
        return art, None
    if "?" in sub:
        return art, "?"
    return art, "%02d" % cn2int(sub)


STANDARDS = {
    "coal": {
        "name": "煤矿重大事故隐患判定标准",
        "doc_number": "应急管理部令第4号",
        "edition": "2020",
        "effective": "2021-01-01",
        "newer_edition_note": "已修订为应急管理部令第21号（2026年7月1日施行），修订后正文尚未核对；"
        "自施行之日起须按新令核对本表各条。",
        "editions": [
            {"name": "煤矿重大事故隐患判定标准", "doc_number": "应急管理部令第4号", "effective": "2021-01-01", "text_found": True},
            {"name": "煤矿重大事故隐患判定标准", "doc_number": "应急管理部令第21号", "effective": "2026-07-01", "text_found": False},
        ],
    },
    "ncm": {
        "name": "金属非金属矿山重大事故隐患判定标准",
        "doc_number": "矿安〔2022〕88号",
        "edition": "2022",
        "effective": "2022-09-01",
        "newer_edition_note": "须与《金属非金属矿山重大事故隐患判定标准补充情形》（矿安〔2024〕41号）配套使用；"
        "补充情形正文尚未取得，未收入本表。",
    },
    "hc": {
        "name": "化工和危险化学品生产经营单位重大生产安全事故隐患判定标准（试行）",
        "doc_number": "安监总管三〔2017〕121号",
        "edition": "2017",
        "effective": "2017-11-13",
        "newer_edition_note": None,
    },
    # The fireworks part of the same 121号 notice: cited by the 烟花爆竹 groups of the
    # hazardous-chemicals pack (version 2), each group carrying it as its own standard.
    "fw": {
        "name": "烟花爆竹生产经营单位重大生产安全事故隐患判定标准（试行）",
        "doc_number": "安监总管三〔2017〕121号",
        "edition": "2017",
        "effective": "2017-11-13",
        "newer_edition_note": None,
    },
    "fire": {
        "name": "重大火灾隐患判定方法",
        "doc_number": "GB 35181-2017",
        "edition": "2017",
        "effective": "2018-07-01",
        "newer_edition_note": "GB 35181-2025《重大火灾隐患判定规则》已于2025年11月1日实施并代替2017版；"
        "2025版正文尚未核对：自该日起，本表条目引用2025版并标注条文待核，条款序号沿用2017版。",
        "editions": [
            {"name": "重大火灾隐患判定方法", "doc_number": "GB 35181-2017", "effective": "2018-07-01", "text_found": True},
            {"name": "重大火灾隐患判定规则", "doc_number": "GB 35181-2025", "effective": "2025-11-01", "text_found": False},
        ],
    },
    "gas": {
        "name": "城镇燃气经营安全重大隐患判定标准",
        "doc_number": "建城规〔2023〕4号",
        "edition": "2023",
        "effective": "2023-09-21",
        "newer_edition_note": None,
    },
    "con": {
        "name": "房屋市政工程生产安全重大事故隐患判定标准（2022版）",
        "doc_number": "建质规〔2022〕2号",
        "edition": "2022",
        "effective": "2022-04-19",
        "newer_edition_note": "2024版（建质规〔2024〕5号）已印发，模板、脚手架等条款已调整，应切换到2024版；"
        "2024版正文尚未取得。",
    },
    "it": {
        "name": "工贸企业重大事故隐患判定标准",
        "doc_number": "应急管理部令第10号",
        "edition": "2023",
        "effective": "2023-05-15",
        "newer_edition_note": None,
    },
}

# Group tables: (group key, title, [articles]) in walking order.
COAL_UG_GROUPS = [
    ("docs", "证照、承包改制与安全管理（资料核查）", [15, 16, 17, "18-01", "18-02", "18-03", "18-04", "18-05"]),
    ("plan", "生产组织与采掘部署（调度室、地测）", [4, 10]),
    ("monitor", "瓦斯检查与安全监控（调度监控中心）", [5, 7, "18-06"]),
    ("power", "供电、提升与运输（地面）", [14, "18-07", "18-08"]),
    ("vent", "矿井通风（井下）", [8, "18-09"]),
    ("outburst", "防突（井下）", [6]),
    ("water", "防治水（井下）", [9]),
    ("burst", "冲击地压（井下）", [11]),
    ("fire", "防灭火（井下）", [12]),
    ("face", "采掘工作面与井下设备", [13]),
]
# Clauses of the coal standard that also apply to open-pit mines (criteria.md §1.1).
COAL_OP_SHARED = ["4-01", "4-02", "10-01", "10-02", "10-03", 15, 16, 17, "18-01", "18-02", "18-05"]
COAL_OP_ORIGIN = ["18-10"]

NCM_GROUPS = [
    # (section, key, title, subsector, [articles])
    ("一", "ug-docs", "地下矿山 · 图纸、设计与禁用设备（资料核查）", "mine_underground", [2, 4, 27]),
    ("一", "ug-exit", "地下矿山 · 安全出口与井巷贯通", "mine_underground", [1, 3]),
    ("一", "ug-water", "地下矿山 · 防治水", "mine_underground", [6, 7, 8, 9, 11, 12]),
    ("一", "ug-ground", "地下矿山 · 露天转地下、矿柱、采空区与地压", "mine_underground", [5, 16, 17, 18, 19]),
    ("一", "ug-vent", "地下矿山 · 通风、防火与气体检测", "mine_underground", [13, 20, 21]),
    ("一", "ug-hoist", "地下矿山 · 提升与人员运输", "mine_underground", [22, 23]),
    ("二", "op-slope", "露天矿山 · 采场、边坡与开采顺序", "mine_open_pit", [1, 3, 4, 5, 8]),
    ("二", "op-monitor", "露天矿山 · 边坡稳定分析与监测", "mine_open_pit", [6, 7]),
    ("二", "op-other", "露天矿山 · 设备、运输道路与防洪", "mine_open_pit", [2, 9, 10]),
    ("三", "tp", "尾矿库 · 库区、坝体、排洪与监测", "tailings_pond", None),
]

HC_GROUPS = [
    ("mgmt", "人员资质与安全管理制度（资料核查）", [1, 2, 16, 17, 18]),
    ("design", "设计、工艺与淘汰设备", [10, 11, 19]),
    ("layout", "总图布置与外部安全距离", [3, 8, 9]),
    ("unit", "控制室与生产装置", [4, 12, 13, 14, 15]),
    ("tank", "储罐区、充装与仓库", [5, 6, 7, 20]),
]

FIRE_GROUPS = [
    ("6", "直接判定要素（第6章，单条即构成重大火灾隐患）"),
    ("7-1", "综合判定要素 · 总平面布置"),
    ("7-2", "综合判定要素 · 防火分隔"),
    ("7-3", "综合判定要素 · 安全疏散设施及灭火救援条件"),
    ("7-4", "综合判定要素 · 消防给水及灭火设施"),
    ("7-5", "综合判定要素 · 防烟排烟设施"),
    ("7-6", "综合判定要素 · 消防供电"),
    ("7-7", "综合判定要素 · 火灾自动报警系统"),
    ("7-8", "综合判定要素 · 消防安全管理"),
    ("7-9", "综合判定要素 · 其他"),
]

GAS_GROUPS = [
    ("mgmt", "经营许可与安全管理制度（资料核查）", [4]),
    ("station", "燃气厂站", [5]),
    ("pipe", "燃气管道与调压设施", [6]),
    ("cylinder", "瓶装燃气", [7]),
    ("user", "用户安全检查", [9]),
]

CON_GROUPS = [
    ("mgmt", "资质、人员与专项施工方案（项目部资料）", [4, 14]),
    ("pit", "基坑工程", [5]),
    ("form", "模板工程与支撑体系", [6]),
    ("scaffold", "脚手架工程", [7]),
    ("crane", "起重机械", [8]),
    ("steel", "钢结构、网架与操作平台", [9]),
    ("special", "特殊作业环境照明、有限空间与拆除", [10, 11, 12]),
    ("tunnel", "暗挖工程", [13]),
]

IT_GROUPS = [
    ("mgmt", "安全管理与人员资格（资料核查）", [3]),
    ("metal", "冶金企业", [4]),
    ("nonferrous", "有色企业", [5]),
    ("building", "建材企业", [6]),
    ("machinery", "机械企业", [7]),
    ("dust", "粉尘防爆", [11]),
    ("ammonia", "涉氨制冷", [12]),
    ("confined", "有限空间作业", [13]),
    ("alarm", "监控、报警与防护设施", [14]),
]

# 通用要点: common 一般隐患 points checked on every visit, not tied to a clause.
COMMON = {
    "coal-underground": [
        ("入井人员是否随身携带自救器、矿灯和便携式甲烷检测报警仪，是否按规定佩戴人员定位卡？", "入井人员携带装备照片、人员定位系统截图"),
        ("巷道内有无杂物、浮煤堆积，安全出口和行人通道是否畅通？", "巷道现场照片"),
        ("井下电气设备有无失爆，电缆吊挂是否整齐规范？", "失爆设备、电缆吊挂照片"),
        ("巷道和工作面顶板支护是否完好，有无空顶作业？", "支护现场照片"),
        ("特种作业人员是否持证上岗，现场有无违章指挥、违章作业？", "证件照片、现场作业照片"),
        ("井下消防器材、防尘洒水设施是否齐全有效？", "灭火器、消防管路及洒水设施照片"),
        ("安全警示标识、避灾路线标识是否齐全清晰？", "标识牌照片"),
    ],
    "coal-open-pit": [
        ("采场、排土场作业平台有无人员、设备在危险区域内作业或停留？", "作业平台全景照片"),
        ("运输道路宽度、挡车墙、安全警示标识是否符合要求？", "道路及挡车墙照片"),
        ("爆破作业是否设置警戒，警戒范围和信号是否符合规定？", "警戒设置照片、爆破记录"),
        ("设备司机是否持证上岗，大型设备有无带病运行？", "证件照片、设备状况照片"),
        ("排土场、边坡有无裂缝、滑移等异常，巡查记录是否齐全？", "裂缝照片、巡查记录"),
        ("消防器材、防尘设施是否齐全有效？", "灭火器、洒水车照片"),
    ],
    "non-coal-mine": [
        ("入井人员是否佩戴安全帽、矿灯、自救器，是否按规定携带便携式气体检测报警仪？", "入井人员装备照片"),
        ("巷道、采场有无浮石未处理，顶板管理（敲帮问顶）是否落实？", "采场顶板照片"),
        ("安全出口、人行道、梯子间是否畅通完好？", "通道照片"),
        ("电气设备、电缆是否规范，有无裸露接头？", "电气设备照片"),
        ("爆破器材领退、储存是否规范，有无乱放炸药雷管？", "爆破器材储存照片、领退台账"),
        ("露天台阶、边坡有无浮石、伞檐，作业平台宽度是否足够？", "台阶边坡照片"),
        ("尾矿库坝面有无裂缝、冲沟、渗漏，排洪设施是否畅通？", "坝面、排洪设施照片"),
    ],
    "hazardous-chemicals": [
        ("特殊作业（动火、受限空间、高处、临时用电等）作业票证是否齐全，现场措施是否落实？", "作业票证照片、现场作业照片"),
        ("可燃、有毒气体检测报警仪是否正常运行，有无报警未处置？", "报警控制器界面照片"),
        ("装置、罐区有无跑冒滴漏，设备管道标识是否清晰？", "泄漏点照片"),
        ("防雷防静电接地是否完好，检测是否在有效期内？", "接地设施照片、检测报告"),
        ("消防设施、应急器材、洗眼器是否齐全有效？", "消防设施、应急器材照片"),
        ("现场人员劳动防护用品是否正确佩戴？", "现场人员照片"),
        ("危险化学品安全技术说明书、安全标签和周知卡是否齐全？", "标签、周知卡照片"),
    ],
    "fire": [
        ("灭火器是否配置齐全、压力正常、在检验有效期内？", "灭火器压力表及检验标签照片"),
        ("疏散通道、安全出口有无占用、堵塞、锁闭？", "疏散通道、安全出口照片"),
        ("常闭式防火门是否处于关闭状态，闭门器是否完好？", "防火门照片"),
        ("有无私拉乱接电线、电动自行车违规停放充电？", "电气线路、充电现场照片"),
        ("消防控制室是否24小时双人值班，值班记录是否完整？", "值班记录照片"),
        ("是否落实防火巡查检查，员工是否掌握“一懂三会”？", "巡查记录、现场询问记录"),
    ],
    "urban-gas": [
        ("厂站内是否有明火、违规吸烟或使用非防爆电器？", "现场照片"),
        ("可燃气体报警器是否正常工作，是否定期检定？", "报警器及检定标签照片"),
        ("燃气管道、阀门有无泄漏、锈蚀，标识是否清晰？", "管道阀门照片、检漏记录"),
        ("气瓶储存区是否通风，实瓶空瓶是否分区存放，有无超量储存？", "储瓶区照片"),
        ("安全阀、压力表是否在检定有效期内？", "安全阀、压力表检定标签照片"),
        ("消防器材是否齐全有效，应急演练是否按计划开展？", "消防器材照片、演练记录"),
    ],
    "construction": [
        ("施工现场人员是否正确佩戴安全帽，高处作业是否系挂安全带？", "现场人员照片"),
        ("临边、洞口防护是否到位？", "临边洞口防护照片"),
        ("施工临时用电是否符合“三级配电、两级保护”和“一机一闸一漏”？", "配电箱照片"),
        ("安全网、防护棚搭设是否规范？", "安全网、防护棚照片"),
        ("现场消防器材配置和动火作业审批是否落实？", "消防器材照片、动火审批单"),
        ("安全技术交底和班前教育记录是否齐全？", "交底记录照片"),
    ],
    "industry-trade": [
        ("设备旋转部位防护罩是否齐全？", "设备防护罩照片"),
        ("作业场所电气线路是否规范，配电箱是否完好上锁？", "电气线路、配电箱照片"),
        ("安全通道是否畅通，物料堆放是否稳固？", "通道、物料堆放照片"),
        ("特种设备（叉车、行车、压力容器等）是否定期检验并持证操作？", "检验标志、证件照片"),
        ("劳动防护用品是否按规定配备和佩戴？", "现场人员照片"),
        ("消防器材是否齐全有效，安全警示标识是否设置？", "灭火器、警示标识照片"),
    ],
}


def item_from(crit, item_id, group_id):
    return {
        "id": item_id,
        "group": group_id,
        "clause": crit["clause"],
        "prompt": crit["prompt_zh"],
        "major": crit["major"],
        "kind": "major" if crit["major"] else "composite",
        "evidence_hint": crit["evidence_hint_zh"],
        "check": crit["check"],
        "same_as": None,
    }


def common_group(pack_id, prefix, sector_label):
    gid = prefix + "-common"
    group = {"id": gid, "title": "通用要点（" + sector_label + "一般隐患）", "subsector": None, "common": True}
    items = []
    for n, (prompt, hint) in enumerate(COMMON[pack_id], 1):
        items.append(
            {
                "id": "%s-c-%02d" % (prefix, n),
                "group": gid,
                "clause": None,
                "prompt": prompt,
                "major": False,
                "kind": "common",
                "evidence_hint": hint,
                "check": None,
                "same_as": None,
            }
        )
    return group, items


def standard_of(key, citation):
    s = dict(STANDARDS[key])
    s["citation"] = citation
    if "editions" not in s:
        s["editions"] = (
            [{"name": s["name"], "doc_number": s["doc_number"], "effective": s["effective"], "text_found": True}]
            if s["effective"]
            else []
        )
    return s


def add_statements(packs):
    """Every item's 隐患描述 from reference/statements.json; a re-listed item takes its origin's."""
    with open(os.path.join(HERE, "reference", "statements.json"), encoding="utf-8") as f:
        statements = json.load(f)
    missing = []
    for p in packs:
        for i in p["items"]:
            if i.get("statement"):
                continue
            text = statements.get(i["id"]) or statements.get(i["same_as"] or "")
            if not text:
                missing.append(i["id"])
                continue
            if "？" in text or "?" in text or "是否" in text:
                sys.exit("statement of %s is a question: %s" % (i["id"], text))
            i["statement"] = text
            i["source"] = None
    if missing:
        sys.exit("no statement for: " + ", ".join(missing))


def pack(pack_id, title, sector, subsectors, std, groups, items, rules=None):
    return {
        "id": pack_id,
        "version": PACK_VERSION,
        "sector": sector,
        "subsectors": subsectors,
        "title": title,
        "standard": std,
        "groups": groups,
        "items": items,
        "composite_rules": rules or [],
    }


def make_id(pack_id, base, used):
    """Unique id; '?' parts become x1, x2… in file order."""
    if "?" in base:
        n = 1
        while base.replace("?", "x%d" % n) in used:
            n += 1
        base = base.replace("?", "x%d" % n)
    if base in used:
        raise ValueError("duplicate id " + base)
    used.add(base)
    return base


def article_key(art, sub):
    return art if sub in (None, "?") else "%d-%s" % (art, sub)


def group_for(table, art, sub):
    for key, _title, arts in table:
        if article_key(art, sub) in arts:
            return key
    for key, _title, arts in table:
        if art in arts:
            return key
    raise ValueError("no group for article %s %s" % (art, sub))


def build_article_pack(pack_id, prefix, title, sector, subsectors, std_key, crits, table, sector_label):
    groups = [
        {"id": "%s-g-%s" % (prefix, key), "title": t, "subsector": None, "common": False}
        for key, t, _ in table
    ]
    by_group = {g["id"]: [] for g in groups}
    used = set()
    for c in crits:
        art, sub = article_of(c["clause"])
        base = "%s-%d" % (prefix, art) + ("" if sub is None else "-" + sub)
        iid = ID_OVERRIDES.get((pack_id, c["clause"])) or make_id(pack_id, base, used)
        gid = "%s-g-%s" % (prefix, group_for(table, art, sub))
        by_group[gid].append(item_from(c, iid, gid))
    items = [i for g in groups for i in by_group[g["id"]]]
    cg, citems = common_group(pack_id, prefix, sector_label)
    return pack(
        pack_id, title, sector, subsectors, standard_of(std_key, crits[0]["standard"]),
        groups + [cg], items + citems,
    )


def build_coal(crits):
    ug = build_article_pack(
        "coal-underground", "coal-ug", "煤矿（井工）重大事故隐患检查表", "coal", ["coal_underground"],
        "coal", [c for c in crits if article_of(c["clause"]) != (18, "10")], COAL_UG_GROUPS, "井工煤矿",
    )
    ug["standard"]["scope_note"] = "第十八条（十）露天煤矿边坡条目见露天煤矿检查表。"
    by_clause = {i["clause"]: i for i in ug["items"] if i["clause"]}
    groups = [
        {"id": "coal-op-g-slope", "title": "边坡（采场、排土场）", "subsector": None, "common": False},
        {"id": "coal-op-g-docs", "title": "证照、生产组织与安全管理（与井工煤矿共用条款）", "subsector": None, "common": False},
    ]
    items = []
    for c in crits:
        art, sub = article_of(c["clause"])
        if article_key(art, sub) in COAL_OP_ORIGIN:
            items.append(item_from(c, "coal-op-%d-%s" % (art, sub), "coal-op-g-slope"))
    for c in crits:
        art, sub = article_of(c["clause"])
        if article_key(art, sub) in COAL_OP_SHARED or art in COAL_OP_SHARED:
            origin = by_clause[c["clause"]]
            it = item_from(c, "coal-op-%d" % art + ("" if sub is None else "-" + sub), "coal-op-g-docs")
            it["same_as"] = origin["id"]
            items.append(it)
    cg, citems = common_group("coal-open-pit", "coal-op", "露天煤矿")
    op = pack(
        "coal-open-pit", "露天煤矿重大事故隐患检查表", "coal", ["coal_open_pit"],
        standard_of("coal", crits[0]["standard"]), groups + [cg], items + citems,
    )
    op["standard"]["scope_note"] = (
        "露天煤矿适用第十八条（十）及管理类条款（第四条（一）（二）、第十条、第十五条至第十七条、"
        "第十八条（一）（二）（五））；适用范围为解读，非原文。"
    )
    return [ug, op]


def build_ncm(crits):
    sections = {"一": "ug", "二": "op", "三": "tp"}
    groups = [
        {"id": "ncm-g-" + key, "title": t, "subsector": sub, "common": False}
        for _s, key, t, sub, _a in NCM_GROUPS
    ]
    by_group = {g["id"]: [] for g in groups}
    used = set()
    for c in crits:
        m = re.match(r"(一|二|三)（(.+?)）(\d)?", c["clause"])
        sec, art_s, n = m.group(1), m.group(2), m.group(3)
        art = "?" if "?" in art_s else cn2int(art_s)
        base = "ncm-%s-%s" % (sections[sec], art) + ("-" + n if n else "")
        iid = ID_OVERRIDES.get(("non-coal-mine", c["clause"] + c["prompt_zh"])) or make_id(
            "non-coal-mine", base, used
        )
        key = None
        for s, k, _t, _sub, arts in NCM_GROUPS:
            if s == sec and (arts is None or art in arts):
                key = k
                break
        if key is None:
            raise ValueError("no group for " + c["clause"])
        by_group["ncm-g-" + key].append(item_from(c, iid, "ncm-g-" + key))
    items = [i for g in groups for i in by_group[g["id"]]]
    cg, citems = common_group("non-coal-mine", "ncm", "非煤矿山")
    return pack(
        "non-coal-mine", "非煤矿山（地下、露天、尾矿库）重大事故隐患检查表", "non_coal_mine",
        ["mine_underground", "mine_open_pit", "tailings_pond"],
        standard_of("ncm", crits[0]["standard"]), groups + [cg], items + citems,
    )


def build_hc(crits):
    groups = [
        {"id": "hc-g-" + k, "title": t, "subsector": None, "common": False} for k, t, _ in HC_GROUPS
    ]
    by_group = {g["id"]: [] for g in groups}
    for c in crits:
        n = cn2int(c["clause"])
        key = next(k for k, _t, arts in HC_GROUPS if n in arts)
        by_group["hc-g-" + key].append(item_from(c, "hc-%02d" % n, "hc-g-" + key))
    items = [i for g in groups for i in by_group[g["id"]]]
    cg, citems = common_group("hazardous-chemicals", "hc", "危险化学品")
    p = pack(
        "hazardous-chemicals", "化工和危险化学品重大生产安全事故隐患检查表", "hazardous_chemicals", [],
        standard_of("hc", crits[0]["standard"]), groups + [cg], items + citems,
    )
    p["standard"]["scope_note"] = "该文件同时含烟花爆竹判定标准，本表未收录烟花爆竹部分。"
    return p


def build_fire(crits):
    groups = [
        {"id": "fire-g-" + k, "title": t, "subsector": None, "common": False} for k, t in FIRE_GROUPS
    ]
    by_group = {g["id"]: [] for g in groups}
    for c in crits:
        parts = c["clause"].rstrip("?").split(".")
        key = parts[0] if parts[0] == "6" else "-".join(parts[:2])
        iid = "fire-" + "-".join(parts)
        by_group["fire-g-" + key].append(item_from(c, iid, "fire-g-" + key))
    items = [i for g in groups for i in by_group[g["id"]]]
    comp = [i for i in items if i["clause"].startswith("7")]

    def ids(pred):
        return [i["id"] for i in comp if pred(i["clause"].rstrip("?"))]

    def sec(clause):
        return tuple(int(x) for x in clause.split("."))

    rules = [
        {
            "id": "fire-crowded-3",
            "venues": ["crowded"],
            "threshold": 3,
            "items": ids(lambda c: (7, 3, 1) <= sec(c) <= (7, 3, 9) or c in ("7.5", "7.9.3")),
            "description": "人员密集场所存在7.3.1～7.3.9、7.5、7.9.3规定的综合判定要素3条以上（含本数）",
            "check": "verified",
        },
        {
            "id": "fire-flammable-3",
            "venues": ["flammable_explosive"],
            "threshold": 3,
            "items": ids(lambda c: (7, 1, 1) <= sec(c) <= (7, 1, 3) or c in ("7.4.5", "7.4.6")),
            "description": "易燃易爆危险品场所存在7.1.1～7.1.3、7.4.5、7.4.6规定的综合判定要素3条以上（含本数）",
            "check": "partial",
        },
        {
            "id": "fire-key-4",
            "venues": ["crowded", "flammable_explosive", "important"],
            "threshold": 4,
            "items": [i["id"] for i in comp],
            "description": "人员密集场所、易燃易爆危险品场所、重要场所存在第7章任意综合判定要素4条以上（含本数）",
            "check": "partial",
        },
        {
            "id": "fire-other-6",
            "venues": ["other"],
            "threshold": 6,
            "items": [i["id"] for i in comp],
            "description": "其他场所存在第7章任意综合判定要素6条以上（含本数）",
            "check": "partial",
        },
    ]
    cg, citems = common_group("fire", "fire", "消防")
    p = pack(
        "fire", "重大火灾隐患检查表", "fire", [], standard_of("fire", crits[0]["standard"]),
        groups + [cg], items + citems, rules,
    )
    p["standard"]["scope_note"] = (
        "第7章为综合判定要素：单条不构成重大火灾隐患，按场所类型累计计数达到阈值方可判定，"
        "且最终结论须经集体讨论（不少于3人）。"
    )
    return p


# 工贸 version 2: all of 令第10号 by industry (reference/industry-trade-10.json), each group tied
# to the sub-industry an enterprise declares, so a grain mill is not asked about blast furnaces.
# (key, title, subsector, subindustry in the reference file)
IT_V2_GROUPS = [
    ("mgmt", "安全管理与人员资格（第三条，所有工贸企业）", None, "general"),
    ("metal", "冶金企业（第四条）", "metallurgy", "metallurgy"),
    ("nonferrous", "有色企业（第五条）", "non_ferrous", "nonferrous"),
    ("building", "建材企业（第六条）", "building_materials", "building_materials"),
    ("machinery", "机械企业（第七条）", "machinery", "machinery"),
    ("light", "轻工企业（第八条）", "light_industry", "light_industry"),
    ("textile", "纺织企业（第九条）", "textile", "textile"),
    ("tobacco", "烟草企业（第十条）", "tobacco", "tobacco"),
    ("dust", "存在粉尘爆炸危险的企业（第十一条）", "dust_explosion", "dust_explosion"),
    ("ammonia", "使用液氨制冷的企业（第十二条）", "ammonia_refrigeration", "ammonia_refrigeration"),
    ("confined", "有限空间作业（第十三条）", "confined_space", "confined_space"),
    ("alarm", "监控、报警与防护设施（第十四条）", None, None),
]
# Items of version 1 that stood for a whole article and are split into its clauses in version 2.
IT_REFINED = {"it-5-x1", "it-6-x1", "it-7-x1"}


def source_url(text):
    return text if text and text.startswith("http") else None


def build_it_v2(v1):
    with open(os.path.join(HERE, "reference", "industry-trade-10.json"), encoding="utf-8") as f:
        ref = json.load(f)
    by_id = {i["id"]: i for i in v1["items"]}
    groups, items, used = [], [], set()
    for key, title, sub, ref_sub in IT_V2_GROUPS:
        gid = "it-g-" + key
        groups.append({"id": gid, "title": title, "subsector": sub, "common": False})
        refs = [r for r in ref["items"] if r["subindustry"] == ref_sub] if ref_sub else []
        if key == "alarm":
            refs = [dict(r, subindustry=None) for r in ref["general_clauses"]]
        for r in refs:
            kept = by_id.get(r.get("current_pack_id") or "")
            if kept and kept["id"] not in IT_REFINED:
                it = dict(kept, group=gid)
                it["source"] = source_url(r.get("source"))
            else:
                art, sub_n = article_of(r["clause"])
                it = {
                    "id": make_id("industry-trade", "it-%d-%s" % (art, sub_n), set(used)),
                    "group": gid,
                    "clause": r["clause"],
                    "prompt": r["prompt_zh"],
                    "major": True,
                    "kind": "major",
                    "evidence_hint": r["evidence_hint_zh"],
                    "check": r["check"],
                    "same_as": None,
                    "statement": r["statement_zh"],
                    "source": source_url(r.get("source")),
                }
            if it["id"] in used:
                sys.exit("duplicate 工贸 item " + it["id"])
            used.add(it["id"])
            items.append(it)
    missing = [i["id"] for i in v1["items"] if i["clause"] and i["id"] not in used and i["id"] not in IT_REFINED]
    if missing:
        sys.exit("工贸 v2 lost items of v1: " + ", ".join(missing))
    common = [g for g in v1["groups"] if g["common"]]
    p = dict(v1)
    p["groups"] = groups + common
    p["items"] = items + [i for i in v1["items"] if i["kind"] == "common"]
    p["standard"] = dict(v1["standard"])
    p["standard"]["scope_note"] = (
        "按企业所属行业（冶金、有色、建材、机械、轻工、纺织、烟草、商贸）及粉尘涉爆、涉氨制冷、有限空间作业"
        "显示对应条款；未登记细分行业的企业显示全部条款。商贸企业适用第三条及涉及的第十一至十三条。"
    )
    return p


# 非煤 version 2: the research notes on 88号 (reference/non-coal-2022-2024.json). A note whose
# `check` is `verified` clears an item's 条文待核; a clause the pack lacks is added only when its
# text was found (fully or in part): the notes list 31 more 88号 items "from general knowledge"
# (`unverified`, no public copy read) and 8 placeholders of 41号 whose text was not found at all,
# and neither is added.
NCM_TEXT_FOUND = ("verified", "partial")
# A note's `source` is where its text was read only when it was read (verified or partial).
TEXT_READ = ("verified", "partial")
# Where an added clause goes: (section, article) -> group key; new groups are made only when
# they get items, placed after the group named in NCM_V2_NEW_GROUPS.
NCM_V2_ARTICLE_GROUP = {
    ("一", 7): "ug-water", ("一", 9): "ug-water", ("一", 10): "ug-water", ("一", 11): "ug-water",
    ("一", 14): "ug-ground", ("一", 15): "ug-ground", ("一", 18): "ug-ground",
    ("一", 26): "ug-docs", ("一", 29): "ug-vent",
    ("一", 24): "ug-power", ("一", 25): "ug-power", ("一", 31): "ug-power",
    ("一", 28): "ug-mgmt", ("一", 30): "ug-mgmt", ("一", 32): "ug-mgmt",
    ("二", 12): "op-slope", ("二", 11): "op-dump", ("二", 13): "op-dump",
}
NCM_V2_NEW_GROUPS = [
    # (key, title, subsector, after group key)
    ("ug-mgmt", "地下矿山 · 承包、生产能力与人员配备（资料核查）", "mine_underground", "ug-docs"),
    ("ug-power", "地下矿山 · 供配电、监测监控与通信", "mine_underground", "ug-hoist"),
    ("op-dump", "露天矿山 · 排土场", "mine_open_pit", "op-other"),
]
# An added clause whose derived id is taken by an item published under an inferred number:
# ncm-ug-7-2 (隔墙、配水阀, cited 一（七）2?) is 一（十） in the notes, and 一（七）2 there is
# another item (排水管路).
NCM_V2_IDS = {"一（七）2": "ncm-ug-7-x1"}


def build_ncm_v2(p):
    with open(os.path.join(HERE, "reference", "non-coal-2022-2024.json"), encoding="utf-8") as f:
        ref = json.load(f)
    notes = {r["current_pack_id"]: r for r in ref["items"] if r["current_pack_id"]}
    items = []
    for i in p["items"]:
        i = dict(i)
        r = notes.get(i["id"])
        if r is None:
            if i["clause"]:
                sys.exit("非煤 item %s has no research note" % i["id"])
            items.append(i)
            continue
        if r["check"] == "verified" and i["check"] != "verified":
            if i["clause"].rstrip("?") != r["clause"]:
                sys.exit("非煤 %s: clause %s, the note says %s" % (i["id"], i["clause"], r["clause"]))
            i["clause"] = r["clause"]
            i["check"] = "verified"
            i["statement"] = r["statement_zh"]
        # The public copy the text was read in; none for a clause listed from general knowledge.
        i["source"] = source_url(r["source"]) if i["check"] in TEXT_READ and r["check"] in TEXT_READ else None
        items.append(i)
    groups = [dict(g) for g in p["groups"]]
    added = {}
    used = {i["id"] for i in items}
    sections = {"一": "ug", "二": "op", "三": "tp"}
    for r in ref["items"]:
        if r["current_pack_id"] or r["doc"] != "88号" or r["check"] not in NCM_TEXT_FOUND:
            continue
        m = re.match(r"(一|二|三)（(.+?)）(\d)?$", r["clause"])
        sec, art, n = m.group(1), cn2int(m.group(2)), m.group(3)
        key = "tp" if sec == "三" else NCM_V2_ARTICLE_GROUP.get((sec, art))
        if key is None:
            key = next(k for s, k, _t, _sub, arts in NCM_GROUPS if s == sec and art in arts)
        iid = NCM_V2_IDS.get(r["clause"]) or make_id(
            "non-coal-mine", "ncm-%s-%d" % (sections[sec], art) + ("-" + n if n else ""), used
        )
        used.add(iid)
        added.setdefault("ncm-g-" + key, []).append(
            {
                "id": iid,
                "group": "ncm-g-" + key,
                "clause": r["clause"] + ("" if r["check"] == "verified" else "?"),
                "prompt": r["prompt_zh"],
                "major": True,
                "kind": "major",
                "evidence_hint": r["evidence_hint_zh"],
                "check": r["check"],
                "same_as": None,
                "statement": r["statement_zh"],
                "source": source_url(r["source"]) if r["check"] in TEXT_READ else None,
            }
        )
    for key, title, sub, after in NCM_V2_NEW_GROUPS:
        if "ncm-g-" + key in added:
            at = next(n for n, g in enumerate(groups) if g["id"] == "ncm-g-" + after) + 1
            groups.insert(at, {"id": "ncm-g-" + key, "title": title, "subsector": sub, "common": False})
    ordered = []
    for g in groups:
        ordered += [i for i in items if i["group"] == g["id"]] + added.get(g["id"], [])
    q = dict(p)
    q["groups"] = groups
    q["items"] = ordered
    return q


# 危险化学品 version 2: the fireworks part of 121号 (reference/fireworks-121.json), all 20 items,
# in groups shown only to an enterprise that declares the 烟花爆竹 sub-industry (never by
# default, unlike 工贸's: a chemical plant that declares nothing is not asked about fireworks),
# each group citing the fireworks standard. The text does not split 生产/批发/零售; the groups
# follow the walk (papers, site, retail point), not a split in the text.
FW_GROUPS = [
    ("fw-mgmt", "烟花爆竹 · 人员资格、许可与经营管理（资料核查）", ["一", "二", "十三", "十四", "十五", "十六", "十七", "十八"]),
    ("fw-site", "烟花爆竹 · 厂区、工（库）房、药物与涉药设备", ["三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二", "十九"]),
    ("fw-retail", "烟花爆竹 · 零售点", ["二十"]),
]


def build_hc_v2(p):
    with open(os.path.join(HERE, "reference", "fireworks-121.json"), encoding="utf-8") as f:
        ref = json.load(f)
    std = standard_of("fw", "《%s》（%s）" % (STANDARDS["fw"]["name"], STANDARDS["fw"]["doc_number"]))
    std["scope_note"] = "原文第一至二十项不按生产、批发、零售分条；本表按检查顺序分组，第二十项适用零售点。"
    groups, items = [], []
    for key, title, clauses in FW_GROUPS:
        gid = "hc-g-" + key
        groups.append(
            {"id": gid, "title": title, "subsector": "fireworks", "common": False,
             "only_if_declared": True, "standard": std}
        )
        for r in ref["items"]:
            if r["clause"] not in clauses:
                continue
            items.append(
                {
                    "id": "hc-fw-%02d" % cn2int(r["clause"]),
                    "group": gid,
                    "clause": r["clause"] + ("" if r["check"] == "verified" else "?"),
                    "prompt": r["prompt_zh"],
                    "major": True,
                    "kind": "major",
                    "evidence_hint": r["evidence_hint_zh"],
                    "check": r["check"],
                    "same_as": None,
                    "statement": r["statement_zh"],
                    # The copies read are code files without an address (see the notes).
                    "source": source_url(r["source"]),
                }
            )
    if len(items) != len(ref["items"]):
        sys.exit("烟花爆竹: packed %d of %d items" % (len(items), len(ref["items"])))
    for i in items:
        if "？" in i["statement"] or "?" in i["statement"] or "是否" in i["statement"]:
            sys.exit("statement of %s is a question" % i["id"])
    common = [g for g in p["groups"] if g["common"]]
    q = dict(p)
    q["groups"] = [g for g in p["groups"] if not g["common"]] + groups + common
    q["items"] = [i for i in p["items"] if i["kind"] != "common"] + items + [
        i for i in p["items"] if i["kind"] == "common"
    ]
    q["standard"] = dict(p["standard"])
    q["standard"]["scope_note"] = (
        "同一文件所附《烟花爆竹生产经营单位重大生产安全事故隐患判定标准（试行）》列为烟花爆竹分组，"
        "仅对登记了烟花爆竹细分行业的单位显示，并引用该标准。"
    )
    return q


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: build.py PATH/TO/criteria.json [OUT_DIR]")
    src = sys.argv[1]
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.dirname(os.path.abspath(__file__))
    with open(src, encoding="utf-8") as f:
        crits = json.load(f)

    def of(prefix):
        return [c for c in crits if c["standard"].startswith(prefix)]

    packs = build_coal(of("《煤矿"))
    packs.append(build_ncm(of("《金属非金属矿山")))
    packs.append(build_hc(of("《化工和危险化学品")))
    packs.append(build_fire(of("《重大火灾隐患")))
    packs.append(
        build_article_pack(
            "urban-gas", "gas", "城镇燃气经营安全重大隐患检查表", "urban_gas", [], "gas",
            of("《城镇燃气"), GAS_GROUPS, "城镇燃气",
        )
    )
    packs.append(
        build_article_pack(
            "construction", "con", "房屋市政工程生产安全重大事故隐患检查表", "construction", [], "con",
            of("《房屋市政工程"), CON_GROUPS, "建筑施工",
        )
    )
    packs.append(
        build_article_pack(
            "industry-trade", "it", "工贸企业重大事故隐患检查表", "industry_trade", [], "it",
            of("《工贸企业"), IT_GROUPS, "工贸",
        )
    )

    origin = sum(1 for p in packs for i in p["items"] if i["clause"] and not i["same_as"])
    if origin != len(crits):
        sys.exit("packed %d origin items, criteria has %d" % (origin, len(crits)))
    add_statements(packs)
    v2 = {"industry-trade": build_it_v2, "non-coal-mine": build_ncm_v2, "hazardous-chemicals": build_hc_v2}
    packs = [v2[p["id"]](p) if p["id"] in v2 else p for p in packs]
    for p in packs:
        path = os.path.join(out, p["id"] + ".json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(p, f, ensure_ascii=False, indent=1)
            f.write("\n")
        print("%-22s %3d items" % (p["id"], len(p["items"])))


if __name__ == "__main__":
    main()
