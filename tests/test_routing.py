import pytest
from click.testing import CliRunner

from gridkit.errors import InputError
from gridkit.locator import Location
from gridkit.routing import RoutingTable, class_keys, starter_table, uscc_problem
from gridkit_cli.main import cli

# Real-format credit codes (check characters computed by GB 32100-2015).
WATER, PARK, OFFICE, CAMPUS = "111101010000123455", "12110101MB12345674", "111101010000678902", "12100000400000624D"


def _table(**extra):
    data = {
        "departments": {"水务局": {"code": WATER}, "公园管理处": {"code": PARK},
                        "东华门街道办事处": {"code": OFFICE}, "校园": {"code": CAMPUS},
                        "{street_name}街道办事处": {"code": ""}, "城管": {"code": ""}, "民政": {"code": ""}},
        "territorial": {"*": "{street_name}街道办事处", "110101001": "东华门街道办事处"},
        "rule": [
            {"classes": ["01001", "01002"], "department": "水务局"},
            {"classes": ["06"], "department": "城管"},
            {"classes": ["event:0101"], "department": "城管"},
            {"area": "110101002", "classes": ["*"], "department": "民政"},
            {"area": "110101002003", "classes": ["01"], "department": "公园管理处"},
            {"area": "110101002003007", "classes": ["01001"], "department": "校园"},
        ]}
    data.update(extra)
    return RoutingTable.from_dict(data)


def _at(grid_id, street_name="某"):
    return Location(grid_id, grid_id[:12], "c", grid_id[:9], street_name, grid_id[:6], "东城区", "inside", 0.0)


def test_credit_codes():
    for code in (WATER, PARK, OFFICE, CAMPUS, "91350100M000100Y43"):
        assert uscc_problem(code) is None
    assert uscc_problem("91350100M000100Y4") == "has 17 characters, not 18"
    assert "I, O, S, V, Z" in uscc_problem("91350100M000100YI3")
    assert uscc_problem(WATER[:-1] + "Q") == "check character is Q, should be 5"


@pytest.mark.parametrize("grid_id, code, department, territorial", [
    ("110101001001001", "01001", "水务局", False),          # city-wide class rule
    ("110101001001001", "11010101002000042", "水务局", False),  # a component ID: its class
    ("110101001001001", "11010106010", "城管", False),        # an 11-digit matter code: big class 06
    ("110101001001001", "09001", "东华门街道办事处", True),    # no rule: the street's own authority
    ("110101003001001", "09001", "某街道办事处", True),        # no rule, no street entry: '*' template
    ("110101004001001", "09001", "110101004街道办事处", True),  # …a street with no name: its code
    ("110101002001001", "01001", "民政", False),             # street override beats the city class rule
    ("110101002003001", "01001", "公园管理处", False),        # community big-class rule beats the street '*'
    ("110101002003007", "01001", "校园", False),             # the cell's own rule wins
    ("110101002003007", "01002", "公园管理处", False),        # …only for its class
])
def test_precedence_and_fallback(grid_id, code, department, territorial):
    route = _table().route(_at(grid_id, "" if grid_id.startswith("110101004") else "某"), code)
    assert (route.department_name, route.territorial) == (department, territorial)
    assert route.department_code == {"水务局": WATER, "公园管理处": PARK, "东华门街道办事处": OFFICE,
                                     "校园": CAMPUS}.get(department)



def test_route_many_pairs_classes_with_their_own_rows():
    """Classes as a Series pair by index, never by a silent realignment: the rows of a
    filtered frame (index 4, 9) keep their own classes; a Series with another index
    or a count that differs is refused."""
    import numpy as np
    import pandas as pd

    table = _table()
    rows = [_at("110101002003007"), _at("110101001001001")]
    located = pd.DataFrame([r._asdict() for r in rows], index=[4, 9])
    classes = pd.Series(["01001", "09001"], index=[4, 9])
    codes, names = table.route_many(located, classes)
    assert list(names) == ["校园", "东华门街道办事处"] and list(codes) == [CAMPUS, OFFICE]
    assert list(table.route_many(located, ["09001", "01001"])[1]) == ["民政", "水务局"]  # by position
    # No class (None, NaN, pd.NA, blank): no department, in a categorical layout as in one of strings.
    blank = pd.concat([located] * 2, ignore_index=True)
    for frame in (blank, blank.astype("category")):
        assert table.route_many(frame, [None, np.nan, "", "01001"])[1].tolist() == [None, None, None, "水务局"]
        assert table.route_many(frame, [pd.NA, " ", "01001", None])[1].tolist() == [None, None, "校园", None]
    with pytest.raises(InputError, match="index is not the locations' index"):
        table.route_many(located, classes.reset_index(drop=True))
    with pytest.raises(InputError, match="3 classes for 2 locations"):
        table.route_many(located, ["01001", "01001", "01001"])

def test_fill_departments_routes_rows_with_none_and_completes_half_given_ones():
    """ZGBMDM/ZGBMMC of catalogue rows: neither → routed by class and place; a name
    alone → the code of the table's department of that name; a code alone → its
    name; both → kept; a name the table lacks → left as given, with no code."""
    import pandas as pd

    rows = [("01001", None, None), ("09001", "", " "), ("09001", None, "公园管理处"), ("09001", CAMPUS, None),
            ("01001", None, "自来水公司"), ("06010", None, None), ("01001", WATER, "某某"), ("01002", None, "水务局")]
    classes, code, name = (list(column) for column in zip(*rows))
    places = pd.DataFrame([_at("110101001001001")._asdict()] * len(rows))
    code, name, how = _table().fill_departments(places, classes, code, name)
    assert list(code) == [WATER, OFFICE, PARK, CAMPUS, None, None, WATER, WATER]
    assert list(name) == ["水务局", "东华门街道办事处", "公园管理处", "校园", "自来水公司", "城管", "某某", "水务局"]
    assert list(how) == ["routed", "routed", "by_name", "by_code", "", "routed", "", "by_name"]


def test_legacy_codes():
    table = _table()
    here = _at("110101001001001")
    assert table.route(here, "0101").department_name == "水务局"            # legacy 上水井盖 → 01001
    assert table.route(here, "3205080101000001").department_name == "水务局"  # a legacy 16-digit ID
    assert table.route(here, "0101", kind="event").department_name == "城管"   # legacy event 私搭乱建
    assert table.route(here, "0102", kind="event").territorial                # event without a rule
    with pytest.raises(InputError, match="no GB/T 47678.5-2026 counterpart"):
        table.route(here, "0602")
    with pytest.raises(InputError, match="nor a local class"):
        table.route(here, "99999")
    assert class_keys("0114") == ["01023", "01"]


@pytest.mark.parametrize("code, message", [
    ("1013", "1013 is no legacy CJ/T 214 class (4 digits); 01013 (消防设施) with its leading 0 lost? Excel drops "
             "it: keep the column as text"),
    ("6010", "6010 is no legacy CJ/T 214 class (4 digits); 06010 (暴露垃圾) with its leading 0 lost?"),
    ("1013.0", "'1013.0' is not a class code (digits only): a number as a spreadsheet writes one; 01013 (消防设施) "
               "with its leading 0 lost?"),
    ("9999", "9999 is no legacy CJ/T 214 class (4 digits)"),  # and no 2026 class with a 0 before it: no hint
    ("1.5", "'1.5' is not a class code (digits only)"),
    ("hydrant", "'hydrant' is no class code or name; classes near it by name: 01013 消防设施, 01068 水鹤: "
                "give the code"),
    ("消防栓", "'消防栓' is no class code or name; classes near it by name: 01013 消防设施, "
              "01068 水鹤: give the code"),
    ("立杆", "'立杆' is no class code or name: 立杆 is CJ/T 214's class 0117, and no GB/T 47678.5-2026 class holds "
            "all of it (legacy 立杆 is any pole; 2026 splits poles by owner"),
])
def test_a_class_code_that_lost_its_leading_zero_says_so(code, message):
    with pytest.raises(InputError) as raised:
        class_keys(code)
    assert str(raised.value).startswith(message)
    assert ("leading 0" in message) == ("leading 0" in str(raised.value))


def test_a_rule_may_name_its_classes():
    """A routing table's rule naming classes by name (路灯, 暴露垃圾) was refused:
    "'路灯' is not a class code (digits only); 路灯 is class 01037: give the code".
    A class's name is now its code, in a rule as in a point's class."""
    assert class_keys("消防设施") == ["01013", "01"] and class_keys("暴露垃圾") == ["06010", "06"]
    assert class_keys("上水井盖") == class_keys("供水井盖异常") == ["01001", "01"]
    table = _table(rule=[{"classes": ["路灯", "暴露垃圾"], "department": "城管"}])
    here = _at("110101001001001")
    assert [table.route(here, code).department_name for code in ("01037", "路灯", "06010", "06011")] == [
        "城管", "城管", "城管", "东华门街道办事处"]


def test_load_errors_and_check():
    with pytest.raises(InputError, match="territorial"):
        _table(territorial={"110101001": "东华门街道办事处"})
    with pytest.raises(InputError, match="lacks: 不存在"):
        _table(rule=[{"classes": ["01001"], "department": "不存在"}])
    table = _table(rule=[{"classes": ["01001"], "department": "水务局"},
                         {"classes": ["01001"], "department": "城管"},
                         {"classes": ["98765", "21001"], "department": "城管"},
                         {"area": "1101", "classes": ["01"], "department": "城管"}],
                   departments={"水务局": {"code": WATER[:-1] + "Q"}, "城管": {"code": ""}, "民政": {"code": ""},
                                "{street_name}街道办事处": {"code": ""}, "东华门街道办事处": {"code": OFFICE},
                                "{nope}": {"code": ""}})
    report = table.check(areas={"110101001", "110101001001"})
    assert len(report.errors) == 4
    assert any("says '水务局', rule 2 says '城管'" in e for e in report.errors)
    assert any("code 11110101000012345Q check character is Q, should be 5" in e for e in report.errors)
    assert any("area '1101'" in e for e in report.errors)
    assert any("unknown placeholder(s) nope" in e for e in report.errors)
    # 98765 and 21001 are local extension classes (big classes the standard does not use)
    assert table.local == {"98765", "21001"}
    assert table.route(_at("110101001001001"), "21001").department_name == "城管"
    assert "department '民政' is named by no rule" in report.warnings


def test_a_table_saved_by_windows_notepad_loads(tmp_path, caplog):
    """Notepad saves UTF-8 with a byte order mark (which TOML forbids), "ANSI" (GBK
    on a Chinese Windows) or "Unicode" (UTF-16): each loads as the UTF-8 file does,
    GBK with a warning to save it as UTF-8 (the BOM was "not valid TOML", GBK a
    UnicodeDecodeError traceback)."""
    text = '[territorial]\n"*" = "{street_name}街道办事处"\n\n[departments."{street_name}街道办事处"]\ncode = ""\n'
    saved = {"utf8.toml": text.encode(), "bom.toml": b"\xef\xbb\xbf" + text.encode(),
             "gbk.toml": text.encode("gbk"), "utf16.toml": text.encode("utf-16")}
    for name, data in saved.items():
        (tmp_path / name).write_bytes(data)
        caplog.clear()
        table = RoutingTable.load(tmp_path / name)
        assert table.route(_at("110101001001001", "东华门"), "01001").department_name == "东华门街道办事处"
        assert ("is not UTF-8; read as GBK/GB18030" in caplog.text) == (name == "gbk.toml")
    (tmp_path / "bare.toml").write_text('[territorial]\n"*" = "城管"\n[departments.路灯所]\ncode = ""\n', encoding="utf-8")
    with pytest.raises(InputError) as error:  # TOML reads a key of Chinese characters only in quotes
        RoutingTable.load(tmp_path / "bare.toml")
    assert str(error.value) == (f"{tmp_path / 'bare.toml'}: not valid TOML (Invalid initial character for a key part "
                                "(at line 3, column 14)): a key of other than ASCII letters, digits, - and _ goes in "
                                'double quotes: [departments."路灯所"]')
    (tmp_path / "latin.toml").write_bytes(b"[a]\nb = '\xff\xff\xff'\n")
    with pytest.raises(InputError, match=r"latin.toml: not UTF-8 text \(byte 9\); TOML is UTF-8: save it so"):
        RoutingTable.load(tmp_path / "latin.toml")


def test_a_starter_table_as_a_clerk_edits_it(tmp_path):
    """`route starter`'s table filled in by hand in a Chinese input method: a full-width
    ＝ or “” was "Expected '=' after a key" or "Invalid value" with no more; [rule]
    typed with one pair of brackets, or a department pasted twice, "Cannot declare …
    twice"; "01013, 01012" or "01013 " in one pair of quotes an unknown class; and an
    old 15-digit registration number or a 9-digit organisation code "has 15
    characters, not 18". Each now says what it is and the fix."""
    starter = starter_table()
    police = '[departments."公安局"]\ncode = ""'
    assert police in starter

    def load(name, text):
        (tmp_path / name).write_text(text, encoding="utf-8")
        with pytest.raises(InputError) as error:
            RoutingTable.load(tmp_path / name)
        return str(error.value).removeprefix(f"{tmp_path / name}: not valid TOML (")

    line = starter.splitlines().index('[departments."公安局"]') + 2
    assert load("eq.toml", starter.replace(police, '[departments."公安局"]\ncode ＝ ""')) == (
        f"Expected '=' after a key in a key/value pair (at line {line}, column 6)): line {line} has ＝, typed in a "
        "Chinese input method's full-width mode; TOML needs =: code = \"\"")
    assert load("quotes.toml", starter.replace(police, '[departments."公安局"]\ncode = “”')).endswith(
        f"line {line} has “ ”, typed in a Chinese input method's full-width mode; TOML needs \": code = \"\"")
    assert load("rule.toml", starter.replace('[[rule]]\nclasses = ["01013"]', '[rule]\nclasses = ["01013"]')).endswith(
        "): each entry of a list of tables is headed with two pairs of brackets, [[rule]]; [rule] (one pair) "
        "declares a single table")
    assert load("twice.toml", starter + police + "\n").endswith(
        f"): line {line - 1} declares [departments.\"公安局\"] first; keep one of the two, with what each holds")
    # Several codes in one pair of quotes are a list of them; a space around one is no part of it.
    edited = starter.replace('classes = ["01013"]', 'classes = ["01013 ", "02015，02016、02039"]').replace(
        '"01015", "02014", "02015", "02016"', '"01015", "02014"').replace('"01066", "02039"', '"01066"')
    (tmp_path / "edited.toml").write_text(edited, encoding="utf-8")
    table = RoutingTable.load(tmp_path / "edited.toml")
    fire = [rule for rule in table.rules if rule.department == "消防救援机构"]
    assert [rule.classes for rule in fire] == [("01013", "02015", "02016", "02039")]
    assert table.route(_at("110101001001001"), "02016").department_name == "消防救援机构"
    assert table.check().errors == []
    codes = starter.replace(police, '[departments."公安局"]\ncode = "110000012345678"').replace(
        '[departments."消防救援机构"]\ncode = ""', '[departments."消防救援机构"]\ncode = "40000123-6"')
    (tmp_path / "codes.toml").write_text(codes, encoding="utf-8")
    result = CliRunner().invoke(cli, ["route", "check", str(tmp_path / "codes.toml")])
    assert result.exit_code == 1
    assert ("error: department '公安局': code 110000012345678 has 15 characters, not 18: a business registration "
            "number (工商注册号), which the unified social credit code replaced in 2015; give the 18-character "
            "code") in result.output
    assert ("error: department '消防救援机构': code 40000123-6 has 10 characters, not 18: an organisation code "
            "(组织机构代码), which the unified social credit code replaced (it is its characters 9–17); give the "
            "18-character code") in result.output
    assert "codes.toml: 2 errors, 6 gaps, 63 warnings" in result.output
    (tmp_path / "one.toml").write_text(codes.replace('"110000012345678"', '""'), encoding="utf-8")
    assert "one.toml: 1 error, 6 gaps, 64 warnings" in CliRunner().invoke(
        cli, ["route", "check", str(tmp_path / "one.toml")]).output


def test_a_misspelt_key_is_refused_not_ignored():
    """``areas`` for ``area`` was ignored, and the rule meant for one street routed the
    whole city's water covers to 民政."""
    meant = {"areas": ["110101002"], "classes": ["01001"], "department": "民政"}
    with pytest.raises(InputError, match=r"^routing table: rule 1: unknown key 'areas' \(did you mean 'area'\?\); "
                                         r"it takes area, classes, department, note$"):
        _table(rule=[meant])
    with pytest.raises(InputError, match=r"department '水务局': unknown key 'cod' \(did you mean 'code'\?\)"):
        _table(departments={"水务局": {"cod": WATER}})
    with pytest.raises(InputError, match=r"rule 1: classes must be text in quotes.* not \[1001\]$"):
        _table(rule=[{"classes": [1001], "department": "民政"}])
    with pytest.raises(InputError, match=r"rule 1: area must be text in quotes.* not 110101002$"):
        _table(rule=[{"area": 110101002, "classes": ["01001"], "department": "民政"}])
    with pytest.raises(InputError, match=r"rule 1: area is an empty list: name at least one"):
        _table(rule=[{"area": [], "classes": ["01001"], "department": "民政"}])


def test_a_rule_may_name_a_list_of_areas_and_a_note():
    table = _table(rule=[{"area": ["110101002", "110101003"], "classes": ["01001"], "department": "民政",
                          "note": "both streets' water covers"}])
    routed = {g: table.route(_at(g), "01001").department_name
              for g in ("110101002001001", "110101003001001", "110101004001001")}
    assert routed == {"110101002001001": "民政", "110101003001001": "民政", "110101004001001": "某街道办事处"}


def test_areas_and_classes_typed_in_full_width_digits_are_their_codes():
    table = _table(rule=[{"area": "１１０１０１００２", "classes": ["０１００１"], "department": "民政"}])
    assert table.route(_at("110101002001001"), "01001").department_name == "民政"
    assert table.route(_at("110101002001001"), "０１００１").department_name == "民政"
    assert table.route(_at("110101003001001"), "01001").department_name == "某街道办事处"


def test_starter_table_checks_clean(tmp_path):
    runner = CliRunner()
    out = tmp_path / "routing.toml"
    result = runner.invoke(cli, ["route", "starter", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "65 departments, 65 rules" in result.output
    assert out.read_text(encoding="utf-8") == starter_table()
    result = runner.invoke(cli, ["route", "check", str(out)])
    assert result.exit_code == 0
    assert "0 errors, 6 gaps, 65 warnings" in result.output
    # the six gaps: four classes the standard leaves to the territorial authority, and the two 'other' matters
    gaps = [line.split()[2] for line in result.output.splitlines() if line.startswith("gap:")]
    assert gaps == ["01022", "01023", "01033", "01034", "10001", "10002"]
    table = RoutingTable.load(out)
    assert table.route(_at("110101001001001", "东华门"), "01023").department_name == "东华门街道办事处"
    bad = tmp_path / "bad.toml"
    bad.write_text(out.read_text(encoding="utf-8") + '\n[[rule]]\nclasses = ["01001"]\ndepartment = "园林绿化局"\n',
                   encoding="utf-8")
    result = runner.invoke(cli, ["route", "check", str(bad)])
    assert result.exit_code == 1 and "error: area * class 01001" in result.output


def _micro_table(**extra):
    """``_table`` with a rule for a micro-grid of cell 110101002003007 and a
    territorial authority for one of cell 110101001001001 (17 digits: the grid ID and two)."""
    rules = _table().rules
    data = {
        "departments": {**{d.key: {"code": d.code or ""} for d in _table().departments.values()},
                        "网格员 {micro_id}": {"code": ""}},
        "territorial": {**_table().territorial, "11010100100100102": "网格员 {micro_id}"},
        "rule": [{"area": r.area, "classes": list(r.classes), "department": r.department} for r in rules]
        + [{"area": "11010100200300701", "classes": ["01001"], "department": "民政"}]}
    data.update(extra)
    return RoutingTable.from_dict(data)


@pytest.mark.parametrize("micro_id, code, department, territorial", [
    ("11010100200300701", "01001", "民政", False),               # the micro-grid's rule beats the cell's
    ("11010100200300701", "01002", "公园管理处", False),           # …only for its class: the community's
    ("11010100200300702", "01001", "校园", False),               # another micro-grid: the cell's rule
    (None, "01001", "校园", False),                               # no micro-grid: the cell's rule
    ("11010100100100102", "01001", "水务局", False),              # any rule beats a micro-grid's authority
    ("11010100100100102", "09001", "网格员 11010100100100102", True),  # no rule: the micro-grid's own authority
    ("11010100100100101", "09001", "东华门街道办事处", True),      # its neighbour: the street's authority
])
def test_micro_grid_areas(micro_id, code, department, territorial):
    """A household layout's micro-grids (17-digit micro_id) are the most specific area."""
    route = _micro_table().route(_at((micro_id or "110101002003007")[:15])._replace(micro_id=micro_id), code)
    assert (route.department_name, route.territorial) == (department, territorial)


def test_a_micro_grid_id_alone_implies_its_grid_and_units():
    table = _micro_table()
    assert table.route({"micro_id": "11010100200300799"}, "01001").department_name == "校园"   # its cell's rule
    assert table.route({"micro_id": "11010100200300899"}, "01001").department_name == "公园管理处"  # community
    assert table.route({"micro_id": "11010100100100101"}, "09001").department_name == "东华门街道办事处"  # street


def test_route_many_routes_each_micro_grid_where_the_table_names_them():
    """Rows in one cell but two micro-grids get their own departments; a table that
    names no micro-grid routes once per cell and class, and gives the same answers."""
    import pandas as pd

    micro = ["11010100200300701", "11010100200300702", None, "11010100100100102", "11010100100100101"]
    located = pd.DataFrame([_at(m[:15] if m else "110101002003007")._replace(micro_id=m)._asdict() for m in micro])
    codes, names = _micro_table().route_many(located, ["01001", "01001", "01001", "09001", "09001"])
    assert list(names) == ["民政", "校园", "校园", "网格员 11010100100100102", "东华门街道办事处"]
    assert list(_table().route_many(located, ["01001"] * 3 + ["09001"] * 2)[1]) == ["校园"] * 3 + ["东华门街道办事处"] * 2


@pytest.mark.parametrize("make", [_table, _micro_table])
def test_route_many_gives_what_route_gives_row_by_row(make):
    """Rows grouped by what the table tells apart (the areas it names, the fields its
    names use) get the departments route() gives each row: cells inside and outside
    the areas named, with and without their unit codes, micro-grids, no place, every
    class key kind."""
    import itertools

    import pandas as pd

    table = make()
    cells = ["110101002003007", "110101002003008", "110101002004001", "110101001001001", "110101003001001",
             "110101004001001", "110101001001002"]
    rows = []
    for cell, micro in itertools.product(cells, ["01", "02", None]):
        place = _at(cell, "" if cell.startswith("110101004") else "某")._replace(
            micro_id=cell + micro if micro else None)._asdict()
        rows += [place, {**place, "community_code": None, "street_code": None}]
    rows.append({name: None for name in rows[0]})
    for place in (rows[0], rows[-19]):  # a micro-grid ID alone, in two cells
        rows.append({**place, "grid_id": None, "community_code": None, "street_code": None})
    located = pd.DataFrame(rows)
    classes = ["01001", "01002", "09001", "06010", "11010106010", "0101", None]
    pairs = list(itertools.product(range(len(located)), classes))
    frame = located.iloc[[i for i, _ in pairs]].reset_index(drop=True)
    codes = [c for _, c in pairs]
    want = [(None, None) if c is None else table.route(rows[i], c)[:2] for i, c in pairs]
    for each in (frame, frame.astype("category")):
        got = table.route_many(each, codes)
        assert list(zip(*got)) == want
    assert len({name for _, name in want}) >= 6  # every level of the precedence decides some rows


def test_check_takes_micro_grid_areas():
    table = _micro_table()
    report = table.check(areas={"110101002003007", "11010100200300701"})
    assert not any("11010100200300701" in w for w in report.warnings)
    assert "territorial 11010100100100102: not in the layout" in report.warnings
    assert not report.errors
    bad = _table(rule=[{"area": "1101010020030070", "classes": ["01"], "department": "城管"}]).check()
    assert bad.errors == ["rule 1: area '1101010020030070' is not a county (6), street (9), community (12), "
                          "cell (15) or micro-grid (17) code"]


def test_a_section_of_the_wrong_toml_type_is_named_with_how_it_is_written(tmp_path):
    """`territorial = "x"`, `departments = 5` and `rule = [1, 2]` (a section written as a
    value) were AttributeError and TypeError tracebacks from `route check`; `"*" = 5` was
    "rules name departments the [departments] table lacks: 5"."""
    fallback = {"territorial": {"*": "A"}, "departments": {"A": {"code": ""}}}
    for data, said in [
            ({**fallback, "territorial": "x"}, 'territorial is written [territorial] with "*" = "{street_name}街道办事处" '
                                               '(a table of area = department), not as "x"'),
            ({**fallback, "departments": 5}, 'departments is written [departments."供电公司"] with code = "…" (a table '
                                             'per department), not as 5'),
            ({**fallback, "rule": [1, 2]}, "rule is written [[rule]] with classes = […] and department = \"…\" (an "
                                           "array of tables), not as [1, 2]"),
            ({**fallback, "territorial": {"*": 5}}, "[territorial] '*' = 5: give the department's name in quotes")]:
        with pytest.raises(InputError) as caught:
            RoutingTable.from_dict(data, source="t.toml")
        assert str(caught.value).startswith(f"t.toml: {said}"), str(caught.value)
    (tmp_path / "t.toml").write_text('territorial = "x"\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["route", "check", str(tmp_path / "t.toml")])
    assert result.exit_code == 1 and "territorial is written [territorial]" in result.output, result.output


def test_a_kind_other_than_component_or_event_and_a_folder_are_refused(tmp_path):
    """class_keys read any kind but 'event' as a component's ('events' routed
    legacy event 0101 as component class 01001's); load of a folder was an
    IsADirectoryError."""
    assert class_keys("0101", "event") == ["event:0101", "event:01"]
    with pytest.raises(InputError, match=r"^kind 'events': give 'component' or 'event'$"):
        class_keys("0101", "events")
    with pytest.raises(InputError, match=r": a folder, not a TOML file$"):
        RoutingTable.load(tmp_path)
