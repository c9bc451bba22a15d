//! `idpsim expr`, run as a user runs it, on the documented examples of Microsoft's "Reference for
//! writing expressions for attribute mappings in Microsoft Entra ID"
//! (<https://learn.microsoft.com/entra/identity/app-provisioning/functions-for-customizing-application-data>,
//! "the page" below): each test is one example, named after the page's section, with the page's
//! expression, its sample input as `--attr`/`--null`/`--source`, and its sample output.
//!
//! Where the page gives no output, the test says which sentence of the section it checks.
//! Where the page contradicts itself, the comment says how, and the test holds what the
//! expression itself gives.

mod common;

use std::process::Output;

/// What `idpsim expr` prints for a value.
#[derive(Debug, Clone, Copy)]
enum Out {
    /// A string value, printed as a JSON string.
    S(&'static str),
    /// A multi-valued result, printed as a JSON list.
    M(&'static [&'static str]),
    /// No value: Entra omits the attribute.
    Null,
    /// IgnoreFlowIfNullOrEmpty dropped the attribute.
    Ignored,
}
use Out::*;

fn expr(args: &[&str]) -> Output {
    let mut all = vec!["expr"];
    all.extend_from_slice(args);
    common::run(&all)
}

/// Runs `idpsim expr EXPRESSION ARGS…` and checks exit 0, nothing on stderr and the value.
fn check(expression: &str, args: &[&str], want: Out) {
    let mut all = vec![expression];
    all.extend_from_slice(args);
    let out = expr(&all);
    let stdout = common::stdout(&out);
    let stderr = common::stderr(&out);
    assert_eq!(
        common::code(&out),
        0,
        "idpsim expr {all:?}\nstdout: {stdout}\nstderr: {stderr}"
    );
    assert_eq!(stderr, "", "idpsim expr {all:?} wrote to stderr");
    let line = stdout.strip_suffix('\n').unwrap_or(&stdout);
    let quoted = |s: &str| serde_json::to_string(s).expect("a string serialises");
    match want {
        S(s) => assert_eq!(line, quoted(s), "idpsim expr {all:?}"),
        M(items) => {
            let list: Vec<String> = items.iter().map(|s| quoted(s)).collect();
            assert_eq!(
                line,
                format!("[{}]", list.join(", ")),
                "idpsim expr {all:?}"
            );
        }
        Null => assert!(
            line.starts_with("null (no value: Entra omits the attribute"),
            "idpsim expr {all:?}: {line}"
        ),
        Ignored => assert!(
            line.starts_with("null (IgnoreFlowIfNullOrEmpty: Entra drops the attribute"),
            "idpsim expr {all:?}: {line}"
        ),
    }
}

/// One `#[test]` per documented example: `name: "section" => expression, [args] => output;`.
macro_rules! documented {
    ($($name:ident: $section:literal => $expr:expr, [$($arg:expr),* $(,)?] => $out:expr;)*) => {
        $(
            #[doc = concat!("The page, ", $section, ".")]
            #[test]
            fn $name() {
                check($expr, &[$($arg),*], $out);
            }
        )*
    };
}

documented! {
    // --- Append ----------------------------------------------------------------------------
    append_constant_suffix_to_user_name: "Append: Append constant suffix to user name"
        => r#"Append([userPrincipalName], ".test")"#,
        ["--attr", "userPrincipalName=John.Doe@contoso.com"] => S("John.Doe@contoso.com.test");

    // --- BitAnd: the page writes &HF as 00000111 in "11110111 AND 00000111 = 00000111"; &HF is
    // 00001111. The AND is 00000111 = 7 either way, the output the page gives. -----------------
    bitand_example: "BitAnd: Example" => "BitAnd(&HF, &HF7)", [] => S("7");

    // --- CBool -----------------------------------------------------------------------------
    cbool_example_same_values: "CBool: Example (\"Returns True if both attributes have the same value\")"
        => "CBool([attribute1] = [attribute2])",
        ["-a", "attribute1=Sales", "-a", "attribute2=Sales"] => S("True");
    cbool_example_different_values: "CBool: Example, the attributes differ"
        => "CBool([attribute1] = [attribute2])",
        ["-a", "attribute1=Sales", "-a", "attribute2=Marketing"] => S("False");
    cbool_non_zero_is_true: "CBool: Description (\"non-zero value … returns True\")"
        => "CBool([n])", ["-a", "n=12"] => S("True");

    // --- CDate -----------------------------------------------------------------------------
    cdate_example_1: "CDate: Example 1" => "CDate([StatusHireDate])",
        ["-a", "StatusHireDate=2020-03-16-07:00"] => S("3/16/2020 7:00:00 AM");
    cdate_example_2: "CDate: Example 2" => r#"CDate("2021-06-30+08:00")"#, []
        => S("6/29/2021 4:00:00 PM");
    cdate_example_3: "CDate: Example 3" => r#"CDate("2009-06-15T01:45:30-07:00")"#, []
        => S("6/15/2009 8:45:30 AM");

    // --- Coalesce --------------------------------------------------------------------------
    coalesce_flow_mail_if_not_null: "Coalesce: Flow mail value if not NULL, otherwise flow userPrincipalName"
        => "Coalesce([mail],[userPrincipalName])",
        ["--null", "mail", "-a", "userPrincipalName=John.Doe@contoso.com"] => S("John.Doe@contoso.com");
    coalesce_flows_mail_when_present: "Coalesce: \"Returns the first source value that isn't NULL\""
        => "Coalesce([mail],[userPrincipalName])",
        ["-a", "mail=jd@contoso.com", "-a", "userPrincipalName=John.Doe@contoso.com"] => S("jd@contoso.com");
    coalesce_default_value: "Coalesce: \"If all arguments are NULL and defaultValue is present, the defaultValue is returned\""
        => r#"Coalesce([mail],[userPrincipalName],"none")"#,
        ["--null", "mail", "--null", "userPrincipalName"] => S("none");
    coalesce_all_null: "Coalesce: \"If all arguments are NULL and defaultValue isn't present, Coalesce returns NULL\""
        => "Coalesce([mail],[userPrincipalName])",
        ["--null", "mail", "--null", "userPrincipalName"] => Null;

    // --- ConvertToBase64, ConvertToUTF8Hex, Count, CStr ------------------------------------
    converttobase64_example: "ConvertToBase64: Example" => r#"ConvertToBase64("Hello world!")"#, []
        => S("SABlAGwAbABvACAAdwBvAHIAbABkACEA");
    converttoutf8hex_example: "ConvertToUTF8Hex: Example" => r#"ConvertToUTF8Hex("Hello world!")"#, []
        => S("48656C6C6F20776F726C6421");
    count_elements_of_multi_valued: "Count: \"returns the number of elements in a multi-valued attribute\""
        => "Count([proxyAddresses])",
        ["-a", "proxyAddresses=SMTP:a@contoso.com", "-a", "proxyAddresses=smtp:b@contoso.com",
         "-a", "proxyAddresses=smtp:c@contoso.com"] => S("3");
    cstr_example: "CStr: Example" => "CStr([dn])", ["-a", "dn=cn=Joe,dc=contoso,dc=com"]
        => S("cn=Joe,dc=contoso,dc=com");

    // --- DateAdd: Example 1's table, row by row --------------------------------------------
    dateadd_add_7_days_to_hire_date: "DateAdd: Example 1, Add 7 days to hire date"
        => r#"DateAdd("d", 7, CDate([StatusHireDate]))"#,
        ["-a", "StatusHireDate=2012-03-16-07:00"] => S("3/23/2012 7:00:00 AM");
    dateadd_ten_days_before_hire_date: "DateAdd: Example 1, Get a date ten days before to hire date"
        => r#"DateAdd("d", -10, CDate([StatusHireDate]))"#,
        ["-a", "StatusHireDate=2012-03-16-07:00"] => S("3/6/2012 7:00:00 AM");
    dateadd_two_weeks: "DateAdd: Example 1, Add two weeks to hire date"
        => r#"DateAdd("ww", 2, CDate([StatusHireDate]))"#,
        ["-a", "StatusHireDate=2012-03-16-07:00"] => S("3/30/2012 7:00:00 AM");
    dateadd_ten_months: "DateAdd: Example 1, Add ten months to hire date"
        => r#"DateAdd("m", 10, CDate([StatusHireDate]))"#,
        ["-a", "StatusHireDate=2012-03-16-07:00"] => S("1/16/2013 7:00:00 AM");
    dateadd_two_years: "DateAdd: Example 1, Add two years to hire date"
        => r#"DateAdd("yyyy", 2, CDate([StatusHireDate]))"#,
        ["-a", "StatusHireDate=2012-03-16-07:00"] => S("3/16/2014 7:00:00 AM");

    // --- DateDiff: Example 1's expression, DateDiff(interval, Now(), CDate([StatusHireDate])),
    // with each table row's date1 as --now and its date2 as StatusHireDate ---------------------
    datediff_positive_days: "DateDiff: Example 1, Positive difference in days between two dates"
        => r#"DateDiff("d", Now(), CDate([StatusHireDate]))"#,
        ["--now", "2021-08-18+08:00", "-a", "StatusHireDate=2021-08-31+08:00"] => S("13");
    datediff_negative_days: "DateDiff: Example 1, Negative difference in days between two dates"
        => r#"DateDiff("d", Now(), CDate([StatusHireDate]))"#,
        ["--now", "8/25/2021 5:41:18 PM", "-a", "StatusHireDate=2012-03-16-07:00"] => S("-3449");
    datediff_weeks: "DateDiff: Example 1, Difference in weeks between two dates"
        => r#"DateDiff("ww", Now(), CDate([StatusHireDate]))"#,
        ["--now", "8/25/2021 5:41:18 PM", "-a", "StatusHireDate=2012-03-16-07:00"] => S("-493");
    datediff_months: "DateDiff: Example 1, Difference in months between two dates"
        => r#"DateDiff("m", Now(), CDate([StatusHireDate]))"#,
        ["--now", "8/25/2021 5:41:18 PM", "-a", "StatusHireDate=2012-03-16-07:00"] => S("-113");
    datediff_years: "DateDiff: Example 1, Difference in years between two dates"
        => r#"DateDiff("yyyy", Now(), CDate([StatusHireDate]))"#,
        ["--now", "8/25/2021 5:41:18 PM", "-a", "StatusHireDate=2012-03-16-07:00"] => S("-9");
    datediff_same_dates: "DateDiff: Example 1, Difference when both dates are same"
        => r#"DateDiff("d", Now(), CDate([StatusHireDate]))"#,
        ["--now", "2021-08-31+08:00", "-a", "StatusHireDate=2021-08-31+08:00"] => S("0");
    datediff_hours: "DateDiff: Example 1, Difference in hours between two dates"
        => r#"DateDiff("h", Now(), CDate([StatusHireDate]))"#,
        ["--now", "2021-08-24", "-a", "StatusHireDate=2021-08-25"] => S("24");
    datediff_minutes: "DateDiff: Example 1, Difference in minutes between two dates"
        => r#"DateDiff("n", Now(), CDate([StatusHireDate]))"#,
        ["--now", "2021-08-24", "-a", "StatusHireDate=2021-08-25"] => S("1440");
    datediff_seconds: "DateDiff: Example 1, Difference in seconds between two dates"
        => r#"DateDiff("s", Now(), CDate([StatusHireDate]))"#,
        ["--now", "2021-08-24", "-a", "StatusHireDate=2021-08-25"] => S("86400");
    // Example 2 states a rule ("True only if hire date is within the next five days") and no
    // output: the three cases of the rule.
    datediff_example_2_hire_within_five_days: "DateDiff: Example 2, active, hired in 3 days"
        => "Switch([Active], , \n  \"1\", IIF(DateDiff(\"d\", Now(), CDate([StatusHireDate])) > 5, \"False\", \"True\"), \n  \"0\", \"False\")",
        ["--now", "2021-07-02T15:33:38Z", "-a", "Active=1", "-a", "StatusHireDate=2021-07-05-07:00"] => S("True");
    datediff_example_2_hire_later: "DateDiff: Example 2, active, hired in 18 days"
        => "Switch([Active], , \n  \"1\", IIF(DateDiff(\"d\", Now(), CDate([StatusHireDate])) > 5, \"False\", \"True\"), \n  \"0\", \"False\")",
        ["--now", "2021-07-02T15:33:38Z", "-a", "Active=1", "-a", "StatusHireDate=2021-07-20-07:00"] => S("False");
    datediff_example_2_inactive: "DateDiff: Example 2, not active in Workday"
        => "Switch([Active], , \n  \"1\", IIF(DateDiff(\"d\", Now(), CDate([StatusHireDate])) > 5, \"False\", \"True\"), \n  \"0\", \"False\")",
        ["--now", "2021-07-02T15:33:38Z", "-a", "Active=0", "-a", "StatusHireDate=2021-07-05-07:00"] => S("False");

    // --- DateFromNum: "Returns a DateTime representing January 1, 2012 at 11:00PM", which
    // Entra writes in its one date format, M/d/yyyy h:mm:ss tt (the page, CDate: Remarks) ------
    datefromnum_example: "DateFromNum: Example" => "DateFromNum(129699324000000000)", []
        => S("1/1/2012 11:00:00 PM");

    // --- FormatDateTime --------------------------------------------------------------------
    formatdatetime_output_date_in_a_format: "FormatDateTime: Output date as a string in a certain format"
        => r#"FormatDateTime([extensionAttribute1], , "yyyyMMddHHmmss.fZ", "yyyy-MM-dd")"#,
        ["-a", "extensionAttribute1=20150123105347.1Z"] => S("2015-01-23");

    // --- IgnoreFlowIfNullOrEmpty -----------------------------------------------------------
    ignoreflow_example_1_empty: "IgnoreFlowIfNullOrEmpty: Example 1 (department empty)"
        => "IgnoreFlowIfNullOrEmpty([department])", ["-a", "department="] => Ignored;
    ignoreflow_example_1_null: "IgnoreFlowIfNullOrEmpty: Example 1 (department null)"
        => "IgnoreFlowIfNullOrEmpty([department])", ["--null", "department"] => Ignored;
    ignoreflow_example_1_value: "IgnoreFlowIfNullOrEmpty: Example 1 (department has a value)"
        => "IgnoreFlowIfNullOrEmpty([department])", ["-a", "department=Sales"] => S("Sales");
    ignoreflow_example_2_unlisted_prefix: "IgnoreFlowIfNullOrEmpty: Example 2 (prefix not among the keys)"
        => r#"IgnoreFlowIfNullOrEmpty(Switch([prefix], "", "3443", "Dr.", "3444", "Prof.", "3445", "Prof. Dr."))"#,
        ["-a", "prefix=3999"] => Ignored;
    ignoreflow_example_2_listed_prefix: "IgnoreFlowIfNullOrEmpty: Example 2 (prefix 3445)"
        => r#"IgnoreFlowIfNullOrEmpty(Switch([prefix], "", "3443", "Dr.", "3444", "Prof.", "3445", "Prof. Dr."))"#,
        ["-a", "prefix=3445"] => S("Prof. Dr.");

    // --- IIF -------------------------------------------------------------------------------
    iif_example_country_usa: "IIF: Example (country=\"USA\")"
        => r#"IIF([country]="USA",[country],[department])"#,
        ["-a", "country=USA", "-a", "department=Sales"] => S("USA");
    iif_example_other_country: "IIF: Example (else the department)"
        => r#"IIF([country]="USA",[country],[department])"#,
        ["-a", "country=Canada", "-a", "department=Sales"] => S("Sales");
    iif_and_by_nesting: "IIF: Known limitations, AND logic"
        => r#"IIF([country]="USA",IIF([state]="CA","True","False"),"False")"#,
        ["-a", "country=USA", "-a", "state=CA"] => S("True");
    iif_and_by_nesting_false: "IIF: Known limitations, AND logic (state differs)"
        => r#"IIF([country]="USA",IIF([state]="CA","True","False"),"False")"#,
        ["-a", "country=USA", "-a", "state=WA"] => S("False");
    iif_or_by_nesting: "IIF: Known limitations, OR logic"
        => r#"IIF([country]="USA","True",IIF([state]="CA","True","False"))"#,
        ["-a", "country=Canada", "-a", "state=CA"] => S("True");
    iif_or_by_nesting_false: "IIF: Known limitations, OR logic (neither)"
        => r#"IIF([country]="USA","True",IIF([state]="CA","True","False"))"#,
        ["-a", "country=Canada", "-a", "state=WA"] => S("False");
    // "If the source attribute used within the IIF function is empty or null, the condition check
    // fails": the three unsupported examples give no value, neither branch.
    iif_unsupported_empty_comparison: "IIF: Known limitations, unsupported IIF([country]=\"\",…)"
        => r#"IIF([country]="","Other",[country])"#, ["-a", "country="] => Null;
    iif_unsupported_isnullorempty: "IIF: Known limitations, unsupported IIF(IsNullOrEmpty([country]),…)"
        => r#"IIF(IsNullOrEmpty([country]),"Other",[country])"#, ["--null", "country"] => Null;
    iif_unsupported_ispresent: "IIF: Known limitations, unsupported IIF(IsPresent([country]),…)"
        => r#"IIF(IsPresent([country]),[country],"Other")"#, ["--null", "country"] => Null;
    iif_workaround_switch_empty: "IIF: Known limitations, recommended workaround (country empty)"
        => r#"Switch([country],[country],"","Other")"#, ["-a", "country="] => S("Other");
    iif_workaround_switch_null: "IIF: Known limitations, recommended workaround (country absent)"
        => r#"Switch([country],[country],"","Other")"#, ["--null", "country"] => S("Other");
    iif_workaround_switch_present: "IIF: Known limitations, recommended workaround (country present)"
        => r#"Switch([country],[country],"","Other")"#, ["-a", "country=Canada"] => S("Canada");

    // --- InStr -----------------------------------------------------------------------------
    instr_example_1: "InStr: Example" => r#"InStr("The quick brown fox","quick")"#, [] => S("5");
    instr_example_2: "InStr: Example" => r#"InStr("repEated","e",3,vbBinaryCompare)"#, [] => S("7");

    // --- IsNull, IsNullOrEmpty, IsPresent, IsString ----------------------------------------
    isnull_example_absent: "IsNull: Example (\"Returns True if the attribute isn't present\")"
        => "IsNull([displayName])", ["--null", "displayName"] => S("True");
    isnull_example_present: "IsNull: Example, the attribute is present"
        => "IsNull([displayName])", ["-a", "displayName=Ada"] => S("False");
    isnull_empty_is_not_null: "IsNull: Example, an empty string is present"
        => "IsNull([displayName])", ["-a", "displayName="] => S("False");
    isnullorempty_example_empty: "IsNullorEmpty: Example (\"… or is an empty string\")"
        => "IsNullOrEmpty([displayName])", ["-a", "displayName="] => S("True");
    isnullorempty_example_absent: "IsNullorEmpty: Example (\"Returns True if the attribute isn't present\")"
        => "IsNullOrEmpty([displayName])", ["--null", "displayName"] => S("True");
    isnullorempty_example_value: "IsNullorEmpty: Example, a value"
        => "IsNullOrEmpty([displayName])", ["-a", "displayName=Ada"] => S("False");
    ispresent_inverse_of_isnullorempty: "IsPresent: \"The inverse of this function is named IsNullOrEmpty\""
        => "IsPresent([displayName])", ["-a", "displayName="] => S("False");
    // The IsPresent section's only example reads as "the first manager present", and gives no
    // output; but it passes IsPresent as Switch's source, which the Switch section's caution
    // says not to do ("do not use the nested functions IsPresent, IsNull or IsNullOrEmpty"), and
    // read by the Switch section's own rule (source, defaultValue, then key/value pairs) it
    // compares "True" with the key IsPresent([skiplevelManager]): with all three present it gives
    // the skip-level manager, not the direct one. The page contradicts itself; idpsim follows
    // the Switch rule.
    ispresent_example_by_the_switch_rule: "IsPresent: Example, read by Switch's description"
        => "Switch(IsPresent([directManager]),[directManager], IsPresent([skiplevelManager]),[skiplevelManager], IsPresent([director]),[director])",
        ["-a", "directManager=m1", "-a", "skiplevelManager=m2", "-a", "director=m3"] => S("m2");
    isstring_of_a_string: "IsString: \"If the expression can be evaluated to a string type\""
        => "IsString([displayName])", ["-a", "displayName=Ada"] => S("True");

    // --- Item, Join, Left, Mid --------------------------------------------------------------
    item_example_first: "Item: Example (\"returns the first item in the multi-valued attribute\")"
        => "Item([proxyAddresses], 1)",
        ["-a", "proxyAddresses=SMTP:ada@contoso.com", "-a", "proxyAddresses=smtp:al@contoso.com"]
        => S("SMTP:ada@contoso.com");
    join_multi_valued_source: "Join: \"every value in that attribute is joined together, separated by the separator\""
        => r#"Join(";", [proxyAddresses], [mail])"#,
        ["-a", "proxyAddresses=a", "-a", "proxyAddresses=b", "-a", "mail=c"] => S("a;b;c");
    join_empty_separator: "Join: separator \"Can be \\\"\\\" if no separator is required\""
        => r#"Join("", [givenName], [surname])"#,
        ["-a", "givenName=Ada", "-a", "surname=Lovelace"] => S("AdaLovelace");
    left_example: "Left: Example" => r#"Left("John Doe", 3)"#, [] => S("Joh");
    left_zero_chars: "Left: \"If numChars = 0, return empty string\"" => r#"Left("John Doe", 0)"#, [] => S("");
    left_negative_chars: "Left: \"If numChars < 0, return input string\"" => r#"Left("John Doe", -1)"#, [] => S("John Doe");
    left_null_string: "Left: \"If string is null, return empty string\"" => "Left([s], 3)", ["--null", "s"] => S("");
    left_short_string: "Left: \"If string contains fewer characters … a string identical to string\""
        => r#"Left("Jo", 3)"#, [] => S("Jo");
    mid_length_past_the_end: "Mid: length \"If length ends outside the source string, function returns substring from start index until end\""
        => r#"Mid("John Doe", 6, 10)"#, [] => S("Doe");
    mid_is_one_based: "Mid: start \"First character in the string has an index of 1\""
        => r#"Mid("John Doe", 1, 4)"#, [] => S("John");

    // --- NormalizeDiacritics, Not, Now ------------------------------------------------------
    normalizediacritics_remove_diacritics: "NormalizeDiacritics: Remove diacritics from a string"
        => "NormalizeDiacritics([givenName])", ["-a", "givenName=Zoë"] => S("Zoe");
    not_of_true: "Not: \"If source value is True, returns False\"" => "Not([IsSoftDeleted])",
        ["-a", "IsSoftDeleted=True"] => S("False");
    not_of_false: "Not: \"Otherwise, returns True\"" => "Not([IsSoftDeleted])",
        ["-a", "IsSoftDeleted=False"] => S("True");
    now_example: "Now: Example (\"Example value returned 7/2/2021 3:33:38 PM\")" => "Now()",
        ["--now", "2021-07-02T15:33:38Z"] => S("7/2/2021 3:33:38 PM");

    // --- NumFromDate: the page gives no outputs. AD's date format (accountExpires, which the
    // section links) counts 100-nanosecond intervals since 1601-01-01 UTC: 2020-12-31
    // 23:59:59-08:00 is 2021-01-01 07:59:59 UTC, 13,253,961,599 seconds after it. ------------
    numfromdate_workday_example: "NumFromDate: Workday example"
        => r#"NumFromDate(Join("", FormatDateTime([ContractEndDate], ,"yyyy-MM-ddzzz", "yyyy-MM-dd"), " 23:59:59-08:00"))"#,
        ["-a", "ContractEndDate=2020-12-31-08:00"] => S("132539615990000000");
    numfromdate_successfactors_example: "NumFromDate: SuccessFactors example"
        => r#"NumFromDate(Join("",FormatDateTime([endDate], ,"M/d/yyyy hh:mm:ss tt","yyyy-MM-dd")," 23:59:59-08:00"))"#,
        ["-a", "endDate=12/31/2020 12:00:00 AM"] => S("132539615990000000");
    numfromdate_inverts_datefromnum_example: "NumFromDate, the inverse of DateFromNum: Example (January 1, 2012 at 11:00PM)"
        => r#"NumFromDate("2012-01-01T23:00:00Z")"#, [] => S("129699324000000000");

    // --- PCase: the Example table, row by row ------------------------------------------------
    pcase_default_separators: "PCase: Example, PCase([firstName])" => "PCase([firstName])",
        ["-a", "firstName=PABLO GONSALVES (SECOND)"] => S("Pablo Gonsalves (Second)");
    pcase_given_separators: "PCase: Example, PCase([lastName],\" '-\")" => r#"PCase([lastName]," '-")"#,
        ["-a", "lastName=PINTO-DE'SILVA"] => S("Pinto-De'Silva");
    pcase_nested_join: "PCase: Example, PCase(Join(\" \",[firstName],[lastName]))"
        => r#"PCase(Join(" ",[firstName],[lastName]))"#,
        ["-a", "firstName=GREGORY", "-a", "lastName=JAMES"] => S("Gregory James");

    // --- Redact: the value flows unchanged; only the provisioning logs show "[Redact]" ------
    redact_example_1_attribute: "Redact: Example 1" => "Redact([userPrincipalName])",
        ["-a", "userPrincipalName=John.Doe@contoso.com"] => S("John.Doe@contoso.com");
    redact_example_2_string: "Redact: Example 2" => r#"Redact("StringToBeRedacted")"#, []
        => S("StringToBeRedacted");

    // --- RemoveDuplicates ------------------------------------------------------------------
    removeduplicates_example: "RemoveDuplicates: Example"
        => "RemoveDuplicates([proxyAddresses])",
        ["-a", "proxyAddresses=SMTP:ada@contoso.com", "-a", "proxyAddresses=smtp:al@contoso.com",
         "-a", "proxyAddresses=SMTP:ada@contoso.com"] => M(&["SMTP:ada@contoso.com", "smtp:al@contoso.com"]);

    // --- Replace: "Replace characters using a regular expression", examples 1 to 6 ----------
    replace_example_1_old_and_replacement: "Replace: Example 1"
        => r#"Replace([BusinessTitle],"Product Developer", , , "Software Engineer", , )"#,
        ["-a", "BusinessTitle=Product Developer"] => S("Software Engineer");
    replace_example_2_old_and_template: "Replace: Example 2"
        => r#"Replace([UserID],"<username>", , , , , "<username>@contoso.com")"#,
        ["-a", "UserID=jsmith"] => S("jsmith@contoso.com");
    replace_example_3_regex_and_replacement: "Replace: Example 3"
        => r#"Replace([telephoneNumber], , "\\+(?<isdCode>\\d* )(?<phoneNumber>\\d{10})", , "${phoneNumber}", , )"#,
        ["-a", "telephoneNumber=+91 9998887777"] => S("9998887777");
    // The page says this "returns only digits" and shows 19998887777, but its pattern [()\s-]+
    // matches parentheses, white space and dashes, not "+": the page contradicts itself, and
    // the pattern keeps the plus sign, as .NET's Regex.Replace does.
    replace_example_3_collapse_a_string: "Replace: Example 3, removing parentheses, dashes and spaces"
        => r#"Replace([mobile], , "[()\\s-]+", , "", , )"#,
        ["-a", "mobile=+1 (999) 888-7777"] => S("+19998887777");
    replace_example_4_regex_group_and_replacement: "Replace: Example 4"
        => r#"Replace([AddressLineData], ,"(?<streetNumber>^\\d*)","streetNumber", "888", , )"#,
        ["-a", "AddressLineData=545 Tremont Street"] => S("888 Tremont Street");
    replace_example_4_strip_upn_suffix: "Replace: Example 4, domain suffix replaced with an empty string"
        => r#"Replace([userPrincipalName], , "(?<Suffix>@(.)*)", "Suffix", "", , )"#,
        ["-a", "userPrincipalName=jsmith@contoso.com"] => S("jsmith");
    replace_example_5_replacement_attribute: "Replace: Example 5 (telephoneNumber empty)"
        => r#"Replace([telephoneNumber], , "\\+(?<isdCode>\\d* )(?<phoneNumber>\\d{10})", "phoneNumber" , , [mobile], )"#,
        ["-a", "telephoneNumber=", "-a", "mobile=+91 8887779999"] => S("8887779999");
    replace_example_5_source_has_a_value: "Replace: \"If source has a value, source is returned\""
        => r#"Replace([telephoneNumber], , "\\+(?<isdCode>\\d* )(?<phoneNumber>\\d{10})", "phoneNumber" , , [mobile], )"#,
        ["-a", "telephoneNumber=+1 4255550100", "-a", "mobile=+91 8887779999"] => S("+1 4255550100");
    replace_example_6_remove_matching_characters: "Replace: Example 6"
        => r#"Replace([mailNickname], , "[a-zA-Z_]*", , "", , )"#,
        ["-a", "mailNickname=john_doe72"] => S("72");

    // --- Split, StripSpaces ----------------------------------------------------------------
    split_into_multi_valued_array: "Split: Split a string into a multi-valued array"
        => r#"Split([extensionAttribute5], ",")"#,
        ["-a", "extensionAttribute5=PermissionSetOne, PermissionSetTwo"] => M(&["PermissionSetOne", "PermissionSetTwo"]);
    stripspaces_removes_all_spaces: "StripSpaces: \"Removes all space (\\\" \\\") characters\""
        => "StripSpaces([displayName])", ["-a", "displayName= Ada  King Lovelace "] => S("AdaKingLovelace");

    // --- Switch ----------------------------------------------------------------------------
    switch_predefined_options: "Switch: Replace a value based on predefined set of options"
        => r#"Switch([state], "Australia/Sydney", "NSW", "Australia/Sydney","QLD", "Australia/Brisbane", "SA", "Australia/Adelaide")"#,
        ["-a", "state=QLD"] => S("Australia/Brisbane");
    switch_predefined_options_default: "Switch: \"If the state code doesn't match any of the predefined options, use default value\""
        => r#"Switch([state], "Australia/Sydney", "NSW", "Australia/Sydney","QLD", "Australia/Brisbane", "SA", "Australia/Adelaide")"#,
        ["-a", "state=WA"] => S("Australia/Sydney");
    switch_is_case_sensitive: "Switch: Note (\"case-sensitive string comparison\")"
        => r#"Switch([statusFlag], "0", "true", "1", "false", "0")"#, ["-a", "statusFlag=TRUE"] => S("0");
    switch_tolower_normalises: "Switch: Note, Switch(ToLower([statusFlag]), …)"
        => r#"Switch(ToLower([statusFlag]), "0", "true", "1", "false", "0")"#, ["-a", "statusFlag=TRUE"] => S("1");
    switch_caution_empty_key: "Switch: Caution (\"if the source attribute statusFlag is empty, the Switch function returns the value 0\")"
        => r#"Switch([statusFlag], "Default Value", "true", "1", "", "0")"#, ["-a", "statusFlag="] => S("0");
    switch_caution_iif_resolution: "Switch: Caution, Resolution (the IIF form of the switch)"
        => r#"IIF([companyName] = "Company A", "A", IIF([companyName] = "Company B", "B", "External"))"#,
        ["-a", "companyName=Company B"] => S("B");
    switch_caution_iif_resolution_switch_form: "Switch: Caution, Resolution (the switch it replaces)"
        => r#"Switch([companyName], "External", "Company A", "A", "Company B", "B")"#,
        ["-a", "companyName=Company B"] => S("B");

    // --- ToLower, ToUpper, Word -------------------------------------------------------------
    tolower_generated_upn: "ToLower: Convert generated userPrincipalName (UPN) value to lower case"
        => r#"ToLower(Join("@", NormalizeDiacritics(StripSpaces(Join(".",  [PreferredFirstName], [PreferredLastName]))), "contoso.com"))"#,
        ["-a", "PreferredFirstName=John", "-a", "PreferredLastName=Smith"] => S("john.smith@contoso.com");
    toupper_invariant_culture: "ToUpper: \"converts it to upper case … Invariant culture\""
        => "ToUpper([mailNickname])", ["-a", "mailNickname=jsmith"] => S("JSMITH");
    word_example_1: "Word: Example" => r#"Word("The quick brown fox",3," ")"#, [] => S("brown");
    word_example_2: "Word: Example" => r#"Word("This,string!has&many separators",3,",!&#")"#, [] => S("has");
    word_number_below_one: "Word: \"If number < 1, returns empty string\"" => r#"Word("The quick brown fox",0," ")"#, [] => S("");
    word_null_string: "Word: \"If string is null, returns empty string\"" => r#"Word([s],1," ")"#, ["--null", "s"] => S("");
    word_too_few_words: "Word: \"If string contains less than number words … an empty string\""
        => r#"Word("The quick",3," ")"#, [] => S("");

    // --- Examples --------------------------------------------------------------------------
    examples_strip_known_domain_name: "Examples: Strip known domain name"
        => r#"Replace([mail], "@contoso.com", , ,"", ,)"#, ["-a", "mail=john.doe@contoso.com"] => S("john.doe");
    examples_user_alias: "Examples: Generate user alias by concatenating parts of first and last name"
        => "Append(Mid([givenName], 1, 3), Mid([surname], 1, 5))",
        ["-a", "givenName=John", "-a", "surname=Doe"] => S("JohDoe");
    examples_comma_between_last_and_first_name: "Examples: Add a comma between last name and first name"
        => r#"Join(", ", "", [surname], [givenName])"#,
        ["-a", "givenName=John", "-a", "surname=Doe"] => S("Doe, John");
    // The page's input is the placeholder GUID 00aa00aa-bb11-cc22-dd33-44ee44ee44ee, but its
    // output is this expression applied to another object ID: decoded (UTF-8 hex with the
    // letters removed, so each "-", hex 2D, leaves "2"), it reads
    // d05e47b1-3909-445a-ba5e-ca60cbc0e4b4. The page's input and output disagree; the output is
    // reproduced from the object ID it was made from (the placeholder: the next test).
    examples_generate_an_id_from_the_object_id: "Examples: Generate an ID for a user based on their Microsoft Entra object ID"
        => r#"Join("", 1000, Replace(ConvertToUTF8Hex([objectId]), , "[a-zA-Z_]*", , "", , ))"#,
        ["-a", "objectId=d05e47b1-3909-445a-ba5e-ca60cbc0e4b4"]
        => S("100064303565343762312333930392343435612626135652636136306362633065346234");
}

/// The page, Examples, "Generate an ID …", with the placeholder input it shows: the output is
/// "1000" and the UTF-8 hex of the object ID without its letters, computed here independently.
#[test]
fn examples_generate_an_id_from_the_placeholder_object_id() {
    let id = "00aa00aa-bb11-cc22-dd33-44ee44ee44ee";
    let hex: String = id.bytes().map(|b| format!("{b:02X}")).collect();
    let want = format!(
        "1000{}",
        hex.chars()
            .filter(|c| !c.is_ascii_alphabetic())
            .collect::<String>()
    );
    check(
        r#"Join("", 1000, Replace(ConvertToUTF8Hex([objectId]), , "[a-zA-Z_]*", , "", , ))"#,
        &["-a", &format!("objectId={id}")],
        S(Box::leak(want.into_boxed_str())),
    );
}

/// The page, NormalizeDiacritics, its table row by row: each cell of characters with diacritics
/// (as the page lists them, comma-separated) becomes its normalized character, one per item.
#[test]
fn normalizediacritics_table() {
    #[rustfmt::skip]
    let rows: &[(&str, &str)] = &[
        ("ä, à, â, ã, å, á, ą, ă, ā, ā́, ā̀, ā̂, ā̃, ǟ, ā̈, ǡ, a̱, å̄", "a"),
        ("Ä, À, Â, Ã, Å, Á, Ą, Ă, Ā, Ā́, Ā̀, Ā̂, Ā̃, Ǟ, Ā̈, Ǡ, A̱, Å̄", "A"),
        ("æ, ǣ", "ae"), ("Æ, Ǣ", "AE"),
        ("ç, č, ć, c̄, c̱", "c"), ("Ç, Č, Ć, C̄, C̱", "C"),
        ("ď, d̄, ḏ", "d"), ("Ď, D̄, Ḏ", "D"),
        ("ë, è, é, ê, ę, ě, ė, ē, ḗ, ḕ, ē̂, ē̃, ê̄, e̱, ë̄, e̊̄", "e"),
        ("Ë, È, É, Ê, Ę, Ě, Ė, Ē, Ḗ, Ḕ, Ē̂, Ē̃, Ê̄, E̱, Ë̄, E̊̄", "E"),
        ("ğ, ḡ, g̱", "g"), ("Ğ, Ḡ, G̱", "G"),
        ("ï, î, ì, í, ı, ī, ī́, ī̀, ī̂, ī̃, i̱", "i"), ("Ï, Î, Ì, Í, İ, Ī, Ī́, Ī̀, Ī̂, Ī̃, I̱", "I"),
        ("ľ, ł, l̄, ḹ, ḻ", "l"), ("Ł, Ľ, L̄, Ḹ, Ḻ", "L"),
        ("ñ, ń, ň, n̄, ṉ", "n"), ("Ñ, Ń, Ň, N̄, Ṉ", "N"),
        ("ö, ò, ő, õ, ô, ó, ō, ṓ, ṑ, ō̂, ō̃, ȫ, ō̈, ǭ, ȭ, ȱ, o̱", "o"),
        ("Ö, Ò, Ő, Õ, Ô, Ó, Ō, Ṓ, Ṑ, Ō̂, Ō̃, Ȫ, Ō̈, Ǭ, Ȭ, Ȱ, O̱", "O"),
        ("ø, ø̄, œ̄", "oe"), ("Ø, Ø̄, Œ̄", "OE"),
        ("ř, r̄, ṟ, ṝ", "r"), ("Ř, R̄, Ṟ, Ṝ", "R"),
        ("ß", "ss"),
        ("š, ś, ș, ş, s̄, s̱", "s"), ("Š, Ś, Ș, Ş, S̄, S̱", "S"),
        ("ť, ț, t̄, ṯ", "t"), ("Ť, Ț, T̄, Ṯ", "T"),
        ("ü, ù, û, ú, ů, ű, ū, ū́, ū̀, ū̂, ū̃, u̇̄, ǖ, ṻ, ṳ̄, u̱", "u"),
        ("Ü, Ù, Û, Ú, Ů, Ű, Ū, Ū́, Ū̀, Ū̂, Ū̃, U̇̄, Ǖ, Ṻ, Ṳ̄, U̱", "U"),
        ("ÿ, ý, ȳ, ȳ́, ȳ̀, ȳ̃, y̱", "y"), ("Ÿ, Ý, Ȳ, Ȳ́, Ȳ̀, Ȳ̃, Y̱", "Y"),
        ("ź, ž, ż, z̄, ẕ", "z"), ("Ź, Ž, Ż, Z̄, Ẕ", "Z"),
    ];
    let mut wrong = Vec::new();
    for (cell, normal) in rows {
        let want = vec![*normal; cell.split(", ").count()].join(", ");
        let out = expr(&[
            "NormalizeDiacritics([givenName])",
            "-a",
            &format!("givenName={cell}"),
        ]);
        let got = common::stdout(&out);
        let want_line = format!("{}\n", serde_json::to_string(&want).expect("string"));
        if common::code(&out) != 0 || got != want_line {
            wrong.push(format!("{cell}\n  want {want_line}  got  {got}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "rows normalised wrongly:\n{}",
        wrong.join("\n")
    );
}

// ----- what a person reads: errors under their column, the help -------------------------------

/// Runs `idpsim expr ARGS…`, expects exit 2 and nothing on stdout, returns stderr.
fn refused(args: &[&str]) -> String {
    let out = expr(args);
    assert_eq!(
        common::code(&out),
        2,
        "idpsim expr {args:?} should exit 2\nstdout: {}\nstderr: {}",
        common::stdout(&out),
        common::stderr(&out)
    );
    assert_eq!(common::stdout(&out), "", "idpsim expr {args:?}: stdout");
    common::stderr(&out)
}

#[test]
fn a_syntax_error_is_shown_under_its_column() {
    let shown = refused(&[r#"Join(", ", [surname] [givenName])"#]);
    assert!(shown.contains(" --> <expression>:1:22"), "{shown}");
    insta::assert_snapshot!(shown);
}

#[test]
fn an_unknown_function_is_named_with_the_closest_one() {
    let shown = refused(&[
        r#"Coalesce([mail], ToLowr([userPrincipalName]))"#,
        "-a",
        "mail=a@contoso.com",
        "-a",
        "userPrincipalName=b@contoso.com",
    ]);
    assert!(
        shown.contains(r#"unknown function "ToLowr"; did you mean "ToLower"?"#),
        "{shown}"
    );
    insta::assert_snapshot!(shown);
}

#[test]
fn an_attribute_not_given_is_an_error_with_the_closest_given_name() {
    // A typo would otherwise read as an absent attribute and give a plausible wrong answer.
    let shown = refused(&[
        r#"Join(" ", [givneName], [surname], [middleName])"#,
        "-a",
        "givenName=Ada",
        "-a",
        "surname=Lovelace",
    ]);
    assert!(shown.contains("did you mean [givenName]?"), "{shown}");
    assert!(
        shown.contains("attribute [middleName] is not given"),
        "{shown}"
    );
    insta::assert_snapshot!(shown);
}

#[test]
fn an_evaluation_error_points_at_the_function_that_failed() {
    let shown = refused(&[
        r#"Append(Mid([givenName], 0, 3), ToUpper([proxyAddresses]))"#,
        "-a",
        "givenName=John",
        "-a",
        "proxyAddresses=a",
        "-a",
        "proxyAddresses=b",
    ]);
    assert!(
        shown.contains("Mid: start must be 1 or greater, got 0"),
        "{shown}"
    );
    assert!(shown.contains(" --> <expression>:1:8"), "{shown}");
    insta::assert_snapshot!(shown);
    // A multi-valued attribute where one string is expected, at ToUpper's column.
    let shown = refused(&[
        "ToLower(ToUpper([proxyAddresses]))",
        "-a",
        "proxyAddresses=a",
        "-a",
        "proxyAddresses=b",
    ]);
    assert!(shown.contains(" --> <expression>:1:9"), "{shown}");
    assert!(
        shown.contains("multi-valued attribute with 2 values"),
        "{shown}"
    );
}

#[test]
fn an_expression_from_a_file_is_shown_at_its_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("active.txt");
    // The page's DateDiff Example 2, written over three lines, with its last ')' missing.
    std::fs::write(
        &file,
        "Switch([Active], ,\n  \"1\", IIF(DateDiff(\"d\", Now(), CDate([StatusHireDate])) > 5, \"False\", \"True\"),\n  \"0\", \"False\"\n",
    )
    .expect("write");
    let path = file.to_string_lossy().into_owned();
    let shown = refused(&["--file", &path, "-a", "Active=1", "-a", "StatusHireDate=x"]);
    assert!(shown.contains("active.txt:3:15"), "{shown}");
    insta::assert_snapshot!(common::stable(&shown));
    // Fixed, the same file evaluates.
    std::fs::write(
        &file,
        "Switch([Active], ,\n  \"1\", IIF(DateDiff(\"d\", Now(), CDate([StatusHireDate])) > 5, \"False\", \"True\"),\n  \"0\", \"False\")\n",
    )
    .expect("write");
    let out = expr(&[
        "-f",
        &path,
        "-a",
        "Active=1",
        "-a",
        "StatusHireDate=2021-07-04",
        "--now",
        "2021-07-02T00:00:00Z",
    ]);
    assert_eq!(
        common::stdout(&out),
        "\"True\"\n",
        "{}",
        common::stderr(&out)
    );
}

#[test]
fn help() {
    let out = expr(&["--help"]);
    assert_eq!(common::code(&out), 0);
    insta::assert_snapshot!(common::stdout(&out));
}

#[test]
fn bad_flags_are_usage_errors() {
    for (args, says) in [
        (vec!["[a]", "--attr", "a"], "expected NAME=VALUE"),
        (
            vec!["[a]", "--attr", "a b=1"],
            "an attribute name holds letters",
        ),
        (
            vec!["[a]", "--attr", "a=1", "--null", "A"],
            "both a value (--attr) and none (--null)",
        ),
        (
            vec!["Now()", "--now", "yesterday"],
            "--now \"yesterday\": not a date",
        ),
        (vec!["[a]", "--file", "x.txt"], "cannot be used with"),
        (vec![], "EXPRESSION"),
    ] {
        let out = expr(&args);
        assert_eq!(common::code(&out), 2, "{args:?}");
        let err = common::stderr(&out);
        assert!(err.contains(says), "{args:?}: {err}");
    }
}

// ----- source attributes from a file ----------------------------------------------------------

#[test]
fn source_from_a_json_file_with_booleans_lists_nulls_and_objects() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("user.json");
    // As Graph returns a user: a Boolean, a list, nulls; and the appRoleAssignments of the
    // "Customize application attributes" page, "Provisioning a role to a SCIM app".
    std::fs::write(
        &file,
        r#"{
  "userPrincipalName": "alias@contoso.OnMicrosoft.com",
  "IsSoftDeleted": false,
  "proxyAddresses": ["SMTP:alias@contoso.com", "smtp:alias@contoso.OnMicrosoft.com"],
  "mail": null,
  "employeeId": 701984,
  "appRoleAssignments": [{"id": "06b07648-ecfe-589f-9d2f-6325724a46ee", "value": "25", "displayName": "Role1234"}]
}"#,
    )
    .expect("write");
    let source = file.to_string_lossy().into_owned();
    let eval = |e: &str, extra: &[&str]| {
        let mut args = vec![e, "--source", &source];
        args.extend_from_slice(extra);
        let out = expr(&args);
        assert_eq!(common::code(&out), 0, "{e}: {}", common::stderr(&out));
        common::stdout(&out)
    };
    // The active mapping of Microsoft's SCIM tutorial: a JSON false reads as "False".
    assert_eq!(
        eval(
            r#"Switch([IsSoftDeleted], , "False", "True", "True", "False")"#,
            &[]
        ),
        "\"True\"\n"
    );
    assert_eq!(
        eval(r#"Coalesce([mail], [userPrincipalName])"#, &[]),
        "\"alias@contoso.OnMicrosoft.com\"\n"
    );
    assert_eq!(eval("Count([proxyAddresses])", &[]), "\"2\"\n");
    assert_eq!(eval("CStr([employeeId])", &[]), "\"701984\"\n");
    // The role as the page's default-mode PATCH carries it: JSON text with id, value and
    // displayName, in that order (the profile turns it into each documented body).
    assert_eq!(
        eval("SingleAppRoleAssignment([appRoleAssignments])", &[]),
        format!(
            "{}\n",
            serde_json::to_string(
                r#"{"id":"06b07648-ecfe-589f-9d2f-6325724a46ee","value":"25","displayName":"Role1234"}"#
            )
            .expect("string")
        )
    );
    // --attr and --null override the file, whatever the case of the name.
    assert_eq!(
        eval(
            r#"Coalesce([mail], [userPrincipalName])"#,
            &["-a", "Mail=m@contoso.com"]
        ),
        "\"m@contoso.com\"\n"
    );
    assert!(eval("[userPrincipalName]", &["--null", "userprincipalname"]).starts_with("null"));
}

#[test]
fn source_from_yaml_and_from_stdin() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("user.yaml");
    std::fs::write(
        &file,
        "givenName: Zoë\nsurname: Lovelace\nproxyAddresses: [a, b, a]\n",
    )
    .expect("write");
    let source = file.to_string_lossy().into_owned();
    let out = expr(&[
        r#"ToLower(NormalizeDiacritics(Join(".", [givenName], [surname])))"#,
        "-s",
        &source,
    ]);
    assert_eq!(
        common::stdout(&out),
        "\"zoe.lovelace\"\n",
        "{}",
        common::stderr(&out)
    );
    let out = expr(&["RemoveDuplicates([proxyAddresses])", "-s", &source]);
    assert_eq!(common::stdout(&out), "[\"a\", \"b\"]\n");

    use std::io::Write as _;
    let mut child = common::idpsim()
        .args([
            "expr",
            "Join(\" \", [givenName], [surname])",
            "--source",
            "-",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("idpsim starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(br#"{"givenName": "Ada", "surname": "Lovelace"}"#)
        .expect("write stdin");
    let out = child.wait_with_output().expect("idpsim ends");
    assert_eq!(
        common::stdout(&out),
        "\"Ada Lovelace\"\n",
        "{}",
        common::stderr(&out)
    );
}

#[test]
fn a_source_that_is_not_an_object_is_refused_with_its_position() {
    let dir = tempfile::tempdir().expect("tempdir");
    let list = dir.path().join("list.json");
    std::fs::write(&list, r#"["givenName"]"#).expect("write");
    let broken = dir.path().join("broken.json");
    std::fs::write(&broken, "{\n  \"givenName\": \"Ada\",\n}\n").expect("write");
    let err = refused(&["[givenName]", "-s", &list.to_string_lossy()]);
    assert!(
        err.contains("expected an object of source attributes"),
        "{err}"
    );
    let err = refused(&["[givenName]", "-s", &broken.to_string_lossy()]);
    assert!(err.contains("broken.json:3:1"), "{err}");
    let err = refused(&[
        "[givenName]",
        "-s",
        &dir.path().join("none.json").to_string_lossy(),
    ]);
    assert!(err.contains("none.json"), "{err}");
}

// ----- --json, --seed, SelectUniqueValue ------------------------------------------------------

fn json_of(args: &[&str]) -> (i32, serde_json::Value) {
    let mut all = args.to_vec();
    all.push("--json");
    let out = expr(&all);
    let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{args:?}: stdout is not JSON ({e}): {}",
            common::stdout(&out)
        )
    });
    (common::code(&out), v)
}

#[test]
fn json_output_for_values_nulls_ignored_flows_and_errors() {
    let (code, v) = json_of(&[
        r#"Split([extensionAttribute5], ",")"#,
        "-a",
        "extensionAttribute5=One, Two",
    ]);
    assert_eq!(code, 0);
    assert_eq!(v["value"], serde_json::json!(["One", "Two"]));
    assert_eq!(v["flows"], true);
    assert_eq!(v["expression"], r#"Split([extensionAttribute5], ",")"#);

    let (_, v) = json_of(&["[mail]", "--null", "mail"]);
    assert_eq!(v["value"], serde_json::Value::Null);
    assert_eq!(v["flows"], false);
    assert!(v.get("ignoreFlow").is_none(), "{v}");

    let (_, v) = json_of(&["IgnoreFlowIfNullOrEmpty([department])", "-a", "department="]);
    assert_eq!(v["flows"], false);
    assert_eq!(v["ignoreFlow"], true);

    let (_, v) = json_of(&["[mail]", "-a", "mail="]);
    assert_eq!(v["value"], "", "the empty string is a value and flows");
    assert_eq!(v["flows"], true);

    let (code, v) = json_of(&["Not([a] \"x\")", "-a", "a=True"]);
    assert_eq!(code, 2);
    assert_eq!(v["errors"][0]["line"], 1);
    assert_eq!(v["errors"][0]["column"], 9);
    assert_eq!(
        v["errors"][0]["message"],
        "expected ',' or ')' after argument, found '\"'"
    );

    let (code, v) = json_of(&["Join(\" \", [a], [b])"]);
    assert_eq!(code, 2);
    assert_eq!(v["errors"].as_array().map(Vec::len), Some(2), "{v}");
    assert!(
        v["errors"][1]["help"]
            .as_str()
            .is_some_and(|h| h.contains("--null b")),
        "{v}"
    );
}

/// The page, Guid and RandomString: values of the documented shape, repeatable with --seed.
#[test]
fn guid_and_randomstring_examples_with_a_seed() {
    let value = |args: &[&str]| {
        let (code, v) = json_of(args);
        assert_eq!(code, 0, "{args:?}: {v}");
        v["value"].as_str().map(str::to_string).unwrap_or_default()
    };
    let guid = value(&["Guid()", "--seed", "7"]);
    assert_eq!(
        guid,
        value(&["Guid()", "--seed", "7"]),
        "seeded: the same GUID"
    );
    assert_ne!(guid, value(&["Guid()", "--seed", "8"]));
    let shape =
        regex::Regex::new(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
            .expect("regex");
    assert!(shape.is_match(&guid), "{guid}");

    // Example 1: 6 characters, 3 numbers and 3 lower case.
    let s = value(&["RandomString(6,3,0,0,3)", "--seed", "7"]);
    assert_eq!(s.chars().count(), 6, "{s}");
    assert!(s.chars().filter(char::is_ascii_digit).count() >= 3, "{s}");
    assert!(
        s.chars().filter(char::is_ascii_lowercase).count() >= 3,
        "{s}"
    );
    // Example 2: 10 characters, at least 2 numbers, 2 special, 2 capital, 1 lower, no ? or ,.
    for seed in ["1", "2", "3", "4", "5"] {
        let s = value(&[r#"RandomString(10,2,2,2,1,"?,")"#, "--seed", seed]);
        assert_eq!(s.chars().count(), 10, "{s}");
        assert!(s.chars().filter(char::is_ascii_digit).count() >= 2, "{s}");
        assert!(
            s.chars().filter(|c| !c.is_ascii_alphanumeric()).count() >= 2,
            "{s}"
        );
        assert!(
            s.chars().filter(char::is_ascii_uppercase).count() >= 2,
            "{s}"
        );
        assert!(
            s.chars().filter(char::is_ascii_lowercase).count() >= 1,
            "{s}"
        );
        assert!(!s.contains('?') && !s.contains(','), "{s}");
    }
    // The page, Redact: Example 3: the random string flows.
    assert_eq!(
        value(&["Redact(RandomString(6,3,0,0,3))", "--seed", "7"]),
        value(&["RandomString(6,3,0,0,3)", "--seed", "7"])
    );
}

/// The page, SelectUniqueValue: "Generate unique value for userPrincipalName (UPN) attribute":
/// with no UPN taken, the first rule's value; idpsim says it cannot check the directory.
#[test]
fn selectuniquevalue_example_gives_the_first_rule() {
    let out = expr(&[
        "    SelectUniqueValue( \n        Join(\"@\", NormalizeDiacritics(StripSpaces(Join(\".\",  [PreferredFirstName], [PreferredLastName]))), \"contoso.com\"), \n        Join(\"@\", NormalizeDiacritics(StripSpaces(Join(\".\",  Mid([PreferredFirstName], 1, 1), [PreferredLastName]))), \"contoso.com\"),\n        Join(\"@\", NormalizeDiacritics(StripSpaces(Join(\".\",  Mid([PreferredFirstName], 1, 2), [PreferredLastName]))), \"contoso.com\")\n    )",
        "-a",
        "PreferredFirstName=John",
        "-a",
        "PreferredLastName=Smith",
    ]);
    assert_eq!(common::code(&out), 0, "{}", common::stderr(&out));
    assert_eq!(common::stdout(&out), "\"John.Smith@contoso.com\"\n");
    assert!(
        common::stderr(&out).contains("note: SelectUniqueValue"),
        "{}",
        common::stderr(&out)
    );
}

/// `--to`: the value as Entra puts it into the target attribute. The SCIM tutorial's active
/// mapping on a Boolean target: JSON true/false on create and with ?aadOptscim062020, the string
/// "True"/"False" in default-mode PATCH (what the Entra scenarios send, idp/entra/wire.rs).
#[test]
fn to_a_target_shows_what_each_request_carries() {
    let active = r#"Switch([IsSoftDeleted], , "False", "True", "True", "False")"#;
    let out = expr(&[active, "-a", "IsSoftDeleted=False", "--to", "active"]);
    assert_eq!(
        common::stdout(&out),
        "\"True\"\nto active: true on create, \"True\" in PATCH, true in PATCH with ?aadOptscim062020\n",
        "{}",
        common::stderr(&out)
    );
    let out = expr(&["[mail]", "-a", "mail=ada@contoso.com", "--to", "userName"]);
    assert_eq!(
        common::stdout(&out),
        "\"ada@contoso.com\"\nto userName: \"ada@contoso.com\" on create and in PATCH\n"
    );
    let out = expr(&[
        "IgnoreFlowIfNullOrEmpty([department])",
        "-a",
        "department=",
        "--to",
        "department",
    ]);
    assert!(
        common::stdout(&out).ends_with("\nto department: nothing is sent\n"),
        "{}",
        common::stdout(&out)
    );

    let (code, v) = json_of(&[active, "-a", "IsSoftDeleted=True", "--to", "active"]);
    assert_eq!(code, 0);
    assert_eq!(v["value"], "False");
    assert_eq!(
        v["target"],
        serde_json::json!({"attribute": "active", "sent": {"create": false, "patch": "False", "patchAadOptscim062020": false}})
    );
    let (_, v) = json_of(&[
        "[mail]",
        "--null",
        "mail",
        "--to",
        "emails[type eq \"work\"].value",
    ]);
    assert_eq!(
        v["target"]["sent"],
        serde_json::json!({}),
        "nothing flows: {v}"
    );
}

/// `--to` a role target: the role objects on create and the one PATCH operation of each mode,
/// as Microsoft Learn prints them ("Customize user provisioning attribute-mappings" →
/// "Provisioning a role to a SCIM app"), the bodies the Entra scenarios send.
#[test]
fn to_a_role_target_shows_the_documented_role_bodies() {
    let role =
        r#"{"id":"06b07648-ecfe-589f-9d2f-6325724a46ee","value":"25","displayName":"Role1234"}"#;
    let (code, v) = json_of(&[
        "SingleAppRoleAssignment([appRoleAssignments])",
        "-a",
        &format!("appRoleAssignments={role}"),
        "--to",
        r#"roles[primary eq "True"].value"#,
    ]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(
        v["target"]["sent"],
        serde_json::json!({
            "create": [{"primary": true, "type": "WindowsAzureActiveDirectoryRole", "value": "25"}],
            "patch": {"op": "Add", "path": "roles", "value": [{"value": role}]},
            "patchAadOptscim062020": {"op": "add", "path": "roles", "value": [
                {"primary": true, "type": "WindowsAzureActiveDirectoryRole", "value": "25"}]}
        })
    );
    let out = expr(&[
        "AssertiveAppRoleAssignmentsComplex([appRoleAssignments])",
        "-a",
        "appRoleAssignments=User",
        "--to",
        "roles",
    ]);
    let elements = r#"[{"primary":false,"type":"WindowsAzureActiveDirectoryRole","display":"User","value":"User"}]"#;
    let patch = format!(r#"{{"op":"replace","path":"roles","value":{elements}}}"#);
    assert!(
        common::stdout(&out).ends_with(&format!(
            "\nto roles: roles {elements} on create; the PATCH operation {patch}, with ?aadOptscim062020 {patch}\n"
        )),
        "{}",
        common::stdout(&out)
    );
}
