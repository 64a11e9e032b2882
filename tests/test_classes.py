import numpy as np
import pytest

from gridkit.classes import (
    RETIRED_2026, ClassTable, class_table, classes_without_counterpart, convert_class, convert_ids,
    matter_classes,
)
from gridkit.errors import CodeError, InputError


def test_tables_have_the_standards_counts():
    assert len(class_table("2026")) == 153 and len(class_table("legacy")) == 85
    assert len(matter_classes()) == 250
    bigs = {}
    for c in class_table("2026").classes.values():
        bigs[c.big_code] = bigs.get(c.big_code, 0) + 1
    assert bigs == {"01": 76, "02": 44, "03": 16, "04": 14, "05": 3}
    assert not RETIRED_2026 & set(class_table("2026").classes)


@pytest.mark.parametrize("scheme", ["2026", "legacy"])
def test_every_class_round_trips_through_an_id(scheme):
    table = class_table(scheme)
    for code in table.classes:
        ids = table.build_ids("320508", code, [1, 999_999])
        assert [len(i) for i in ids] == [table.id_digits] * 2
        assert table.id_problems(ids, counties={"320508"}) == ["", ""]
        parsed = table.parse_id(ids[1])
        assert (parsed["county"], parsed["class_code"], parsed["sequence"]) == ("320508", code, 999_999)


def test_the_real_legacy_example_parses():
    assert class_table("legacy").parse_id("3205080101000001")["class_name"] == "上水井盖"


def test_every_invalid_id_has_its_own_reason():
    table = class_table("2026")
    reasons = table.id_problems(["3205080101000001", "3205080101A000001", "32050801016000001",
                                 "32050899001000001", "32050801001000000", "11010101001000001", None],
                                counties={"320508"})
    assert reasons[0].startswith("has 16 characters") and "legacy CJ/T 214" in reasons[0]
    assert reasons[1] == "contains characters other than digits"
    assert reasons[2] == "class 01016 is retired in GB/T 47678.5-2026 (reserved, not for new IDs)"
    assert reasons[3] == "unknown GB/T 47678.5-2026 class 99001"
    assert reasons[4] == "sequence 000000 (sequences start at 000001)"
    assert reasons[5] == "county 110101 is not the layout's (320508)"
    assert reasons[6] == "missing"
    # An ID column read as numbers and written back (pandas' float64) ends in .0: it
    # was "has 18 characters; a GB/T 47678.5-2026 component ID has 17 digits".
    decimal = table.id_problems(["32050801001000001.0", "3205080101000001.0", "1.0"])
    assert decimal[:2] == [
        f"ends in .0: a {n}-digit ID written as a decimal number by a program that read the IDs as numbers, which "
        "keeps 16 digits exactly but may change a 17th; read the column as text where the file was made (pandas: "
        "dtype=str), and export it again" for n in (17, 16)]
    assert decimal[2] == "has 3 characters; a GB/T 47678.5-2026 component ID has 17 digits"
    with pytest.raises(CodeError, match="retired"):
        table.build_ids("320508", "05001", [1])
    with pytest.raises(CodeError, match="1–999999"):
        table.build_ids("320508", "01001", [0])


def test_local_extension_classes_validate_like_built_in_ones(tmp_path):
    spec = tmp_path / "local.toml"
    spec.write_text('[classes.21001]\nname = "共享单车停放区"\ndepartment = "城管局"\n', encoding="utf-8")
    table = ClassTable("2026", spec)
    assert table["21001"].local and table.id_problems(["32050821001000001"]) == [""]
    assert class_table("2026").id_problems(["32050821001000001"]) == ["unknown GB/T 47678.5-2026 class 21001"]
    spec.write_text('[classes.01999]\nname = "x"\n[classes.2101]\nname = "y"\n', encoding="utf-8")
    with pytest.raises(InputError, match="big class 01 is built in.*2101: a GB/T 47678.5-2026 class code has 5 digits"):
        ClassTable("2026", spec)


def test_legacy_maps_to_2026_by_meaning_not_number():
    legacy = class_table("legacy")
    new = class_table("2026")
    unmapped = classes_without_counterpart("legacy")
    assert unmapped == ["0502", "0601", "0602"]
    for code in legacy.classes:
        target = convert_class(code)
        assert (target is None) == (code in unmapped)
        if target:
            assert target in new.classes
            assert convert_class(target, to="legacy") == code
    assert convert_class("0114") == "01023"          # ownerless cover = unidentified cover, not 01014
    assert convert_class("0118") == "01037"          # street light
    assert len(classes_without_counterpart("2026")) == 153 - 82 - 4


def test_convert_ids_reads_ids_given_as_integers_by_their_digits():
    """A column of IDs pandas read as integers: an ArrowTypeError ("Expected bytes,
    got a 'int' object") before; an integer's digits are its ID, and a float's
    decimal form is refused with the reason."""
    new, notes = convert_ids([3205080114000007, np.int64(3205080114000007), 3.205080114000007e15, None])
    assert new == ["32050801023000007", "32050801023000007", None, None]
    assert notes[2].startswith("ends in .0: a 16-digit ID written as a decimal number") and notes[3] == "missing"


def test_convert_ids_renumbers_poles_that_fold_into_one_legacy_class():
    ids, notes = convert_ids(["32050801030000001", "32050801031000001", "32050801001000005"], to="legacy")
    assert ids == ["3205080117000001", "3205080117000002", "3205080101000005"]
    assert notes[0] == "" and notes[1].startswith("renumbered")


def test_convert_ids_gives_an_id_listed_twice_one_id():
    """One component on two rows (an inventory with history rows) stays one
    component: the repeat was renumbered as if it were another pole."""
    ids, notes = convert_ids(["32050801030000001", "32050801031000001", "32050801031000001", "32050801030000001"],
                             to="legacy")
    assert ids == ["3205080117000001", "3205080117000002", "3205080117000002", "3205080117000001"]
    assert notes[2:] == ["the ID of row 2 again, converted as that row: renumbered: 32050801031000001 folds into "
                         "the same legacy class as another ID", "the ID of row 1 again, converted as that row"]
    ids, notes = convert_ids(["3205080602000001", "3205080602000001"])  # no counterpart, twice
    assert ids == [None, None] and notes[1].startswith("the ID of row 1 again, converted as that row: legacy class "
                                                       "0602 has no GB/T 47678.5-2026 counterpart")


def test_a_class_code_that_lost_its_leading_zeros_says_so():
    """Excel keeps class codes typed as numbers without their leading zeros."""
    assert class_table("2026").class_problem("1013") == (
        "class code '1013' is not 5 digits: leading zeros lost? 01013 is 消防设施; keep the column as text "
        "(Excel drops them from numbers)")
    assert class_table("legacy").class_problem("101").startswith("class code '101' is not 4 digits: leading zeros "
                                                                 "lost? 0101 is 上水井盖")
    assert class_table("2026").class_problem("1013.0").startswith(  # a number cell read as a float
        "class code '1013.0' is not 5 digits: leading zeros lost? 01013 is 消防设施")
    assert class_table("2026").class_problem("9") == "class code '9' is not 5 digits"  # 00009: no such class
    assert class_table("2026").class_problem("01013") is None


def test_a_class_code_of_the_other_scheme_says_which_it_is():
    """0113 given for GB/T 47678.5-2026 was "not 5 digits", and nothing more."""
    assert class_table("2026").class_problem("0113") == (
        "class code '0113' is not 5 digits: it is CJ/T 214 class 0113 (消防设施), which is 01013 (消防设施) in "
        "GB/T 47678.5-2026; or import with --scheme legacy")
    assert class_table("2026").class_problem("0602") == (
        "class code '0602' is not 5 digits: it is CJ/T 214 class 0602 (工地), which has no class of the same meaning "
        "in GB/T 47678.5-2026; or import with --scheme legacy")
    assert class_table("legacy").class_problem("01037") == (
        "class code '01037' is not 4 digits: it is GB/T 47678.5-2026 class 01037 (路灯), which is 0118 (路灯) in "
        "CJ/T 214; or import with --scheme 2026")


@pytest.mark.parametrize("words, codes", [
    ((), None),  # the whole table
    (("hydrant",), ["01013", "01068"]),
    (("路灯",), ["01006", "01037", "01038", "01060"]),
    (("legacy: 0103",), ["01003"]),  # a legacy class's 2026 code
    (("LIGHT", "cover"), ["01006"]),  # every word, any case
    (("--scheme", "legacy", "--unmapped"), ["0502", "0601", "0602"]),
])
def test_classes_command_finds_a_class_by_its_words(words, codes):
    from click.testing import CliRunner

    from gridkit_cli.main import cli

    result = CliRunner().invoke(cli, ["components", "classes", *words])
    assert result.exit_code == 0, result.output
    found = [line.split("\t")[0] for line in result.output.splitlines()]
    assert found == (codes or sorted(class_table("2026").classes))


def test_classes_command_says_when_no_class_holds_the_words():
    from click.testing import CliRunner

    from gridkit_cli.main import cli

    result = CliRunner().invoke(cli, ["components", "classes", "lamp", "zzz"])
    assert result.exit_code == 1
    assert ("no class of the 2026 table holds 'lamp' and 'zzz': try fewer words, the other language, or --scheme "
            "legacy") in result.output


def test_classes_command_offers_classes_that_share_two_characters_with_a_chinese_word():
    """消防栓, the everyday word for a hydrant, found nothing: the class is 消防设施.
    Chinese words that share two characters are offered, with the exit status 1 kept."""
    from click.testing import CliRunner

    from gridkit_cli.main import cli

    result = CliRunner().invoke(cli, ["components", "classes", "消防栓"])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == ("Error: no class of the 2026 table holds '消防栓': try fewer words, the other language, or "
                        "--scheme legacy; these share two characters with it:")
    assert [line.split("\t")[0] for line in lines[1:]] == ["01013", "01068"]  # 消防设施; 水鹤 (供水企业/消防救援)
    assert [line.split("\t")[0] for line in CliRunner().invoke(
        cli, ["components", "classes", "垃圾房"]).output.splitlines()[1:]] == ["03004", "03005"]  # 垃圾…
    none = CliRunner().invoke(cli, ["components", "classes", "斑马"])
    assert none.exit_code == 1 and none.output.endswith("or --scheme legacy\n")


@pytest.mark.parametrize("words, scheme, codes", [
    (["红绿灯"], "2026", ["02014"]), (["红绿灯"], "legacy", ["0210"]), (["垃圾桶"], "2026", ["03005"]),
    (["消火栓"], "2026", ["01013"]), (["窨井盖"], "2026", ["01002", "01003"]), (["摄像头"], "legacy", ["0136"]),
    (["隔离墩", "交通"], "2026", ["02017", "02022"]),
    (["上水井盖"], "2026", ["01001"]), (["通讯井盖"], "2026", ["01007"]), (["供水井盖"], "legacy", ["0101"]),
])
def test_classes_command_knows_the_everyday_words_for_classes(words, scheme, codes):
    """红绿灯, what a ledger and a clerk call a traffic signal, found nothing (its
    class is 交通信号灯, and it shares no two characters with it); 垃圾桶 offered the
    refuse room beside the litter bin. Each everyday word now finds its class, and
    the command says (on stderr) which class the word stands for. The other scheme's
    name of a class (上水井盖, CJ/T 214's for 01001 供水井盖) found only the classes
    sharing two characters with it; now it finds the class, as import reads it."""
    from click.testing import CliRunner

    from gridkit_cli.main import cli

    result = CliRunner().invoke(cli, ["components", "classes", "--scheme", scheme, *words])
    assert result.exit_code == 0, result.output
    assert [line.split("\t")[0] for line in result.stdout.splitlines()] == codes
    assert result.stderr.startswith(f"{words[0]}: an everyday word for " if words[0] not in ("上水井盖", "通讯井盖", "供水井盖")
                                    else f"{words[0]}: {'CJ/T 214' if scheme == '2026' else 'GB/T 47678.5-2026'}'s "
                                         f"name of {codes[0]} ")


def test_an_extensions_file_is_checked_key_by_key(tmp_path):
    """`classes = 5` was an AttributeError traceback; `[class.21001]` (a typo) and a
    class's misspelt key were read as nothing, and `name = 5` as a name."""
    form = '[classes.CODE] sections (name = "…", and name_en, big_name, department)'
    for text, said in [("classes = 5\n", f"classes = 5 is not a table; write {form}"),
                       ('[class.21001]\nname = "桩"\n', f"unknown key(s) class; an extensions file holds {form}"),
                       ('[classes.21001]\nname = "桩"\ndepartmnet = "x"\n',
                        "bad local class(es): 21001: unknown key(s) departmnet; it takes name, name_en, big_name, "
                        "department"),
                       ("[classes.21001]\nname = 5\n", "bad local class(es): 21001: needs a name, and its values as "
                                                      "text in quotes")]:
        path = tmp_path / "ext.toml"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(InputError) as caught:
            ClassTable("2026", extensions=path)
        assert str(caught.value).startswith(f"{path}: {said}"), str(caught.value)
    path.write_text('[classes.21001]\nname = "公共自行车桩"\ndepartment = "交通委"\n', encoding="utf-8")
    table = ClassTable("2026", extensions=path)
    assert (table["21001"].name, table["21001"].suggested_department) == ("公共自行车桩", "交通委")
