"""Journey messages in a sandbox (``domain.message_templates``): checked at save, rendered for
one customer, in the customer's locale."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

import pytest

from referral.domain.message_templates import (
    OUTPUT_MAX,
    SOURCE_MAX,
    CampaignInfo,
    Friend,
    MessageContext,
    MessageParts,
    Rendered,
    SurveyAnswer,
    TemplateFailed,
    check,
    check_message,
    choose_locale,
    render,
    render_message,
    sample_context,
)

ANNA = MessageContext(
    customer_name="Anna Jansen",
    locale="nl",
    campaign=CampaignInfo("Spring referral", "spring", "https://example.com/c/spring"),
    campaigns=(CampaignInfo("Spring referral", "spring"), CampaignInfo("Summer draw", "summer")),
    points=120,
    rank=4,
    next_milestone=5,
    confirmed=3,
    referral_link="https://example.com/r/ANNA42",
    friends=(Friend("Ben", date(2027, 3, 1)), Friend("Chloé", date(2027, 3, 9))),
    answers=(
        SurveyAnswer("favourite", "the badges"),
        SurveyAnswer("nps", 9),
        SurveyAnswer("secret", "anonymous text", anonymous=True),
    ),
)
CONTEXT = ANNA.as_mapping()


def texts(source: str, *, html: bool = False, question_keys: Collection[str] = ()) -> list[str]:
    return [m.text for m in check(source, html=html, question_keys=question_keys)]


# Rendering.


def test_a_message_quotes_what_the_customer_told_us() -> None:
    source = (
        "Hi {{ customer.first_name }}, you told us you like {{ answers.favourite }} "
        "and gave us a {{ answers.nps }}."
    )
    assert render(source, CONTEXT) == "Hi Anna, you told us you like the badges and gave us a 9."


def test_friends_points_rank_and_the_next_milestone_are_there() -> None:
    source = (
        "{% for f in friends %}{{ f.name }}{% if not loop.last %}, {% endif %}{% endfor %} joined;"
        " {{ points }} points, rank {{ rank }}, {{ next_milestone.remaining }} to go"
        " to {{ next_milestone.target }}: {{ referral_link }}"
    )
    assert render(source, CONTEXT) == (
        "Ben, Chloé joined; 120 points, rank 4, 2 to go to 5: https://example.com/r/ANNA42"
    )


def test_campaigns_can_be_listed_with_filters() -> None:
    source = "{{ campaigns|map(attribute='name')|join(' & ') }} / {{ campaign.name|upper }}"
    assert render(source, CONTEXT) == "Spring referral & Summer draw / SPRING REFERRAL"


def test_answers_to_anonymous_surveys_are_never_in_the_context() -> None:
    assert "secret" not in CONTEXT["answers"]
    with pytest.raises(TemplateFailed):
        render("{{ answers.secret }}", CONTEXT)


def test_a_missing_answer_can_fall_back_with_default() -> None:
    assert render("{{ answers.city|default('your town') }}", CONTEXT) == "your town"
    assert render("{% if answers.city is defined %}x{% else %}y{% endif %}", CONTEXT) == "y"


def test_an_unknown_value_fails_instead_of_printing_nothing() -> None:
    with pytest.raises(TemplateFailed) as failed:
        render("Hello {{ customer.nickname }}", CONTEXT)
    assert "nickname" in failed.value.message


def test_nothing_known_prints_as_empty() -> None:
    nobody = MessageContext(customer_name="").as_mapping()
    assert (
        render("[{{ rank }}][{{ customer.first_name }}][{{ next_milestone }}]", nobody) == "[][][]"
    )


def test_html_parts_escape_every_value() -> None:
    evil = MessageContext(customer_name='<script>alert(1)</script> "x"').as_mapping()
    html = render("<p>Hi {{ customer.name }}</p>", evil, html=True)
    assert html == "<p>Hi &lt;script&gt;alert(1)&lt;/script&gt; &#34;x&#34;</p>"


def test_text_parts_are_not_escaped() -> None:
    name = MessageContext(customer_name="Tom & Jerry").as_mapping()
    assert render("Hi {{ customer.name }}", name) == "Hi Tom & Jerry"


def test_the_subject_is_always_one_line() -> None:
    injected = MessageContext(customer_name="Anna\r\nBcc: everyone@example.com").as_mapping()
    message = render_message(MessageParts("Hi {{ customer.name }}", "Body"), injected)
    assert message.subject == "Hi Anna Bcc: everyone@example.com"
    assert "\n" not in message.subject and "\r" not in message.subject


def test_a_message_renders_all_its_parts() -> None:
    parts = MessageParts("Thanks {{ customer.first_name }}", "Text", "<b>{{ points }}</b>")
    assert render_message(parts, CONTEXT) == Rendered("Thanks Anna", "Text", "<b>120</b>")


def test_a_message_without_html_has_none() -> None:
    assert render_message(MessageParts("S", "T"), CONTEXT).html is None


def test_rendering_a_broken_template_is_a_template_failure() -> None:
    with pytest.raises(TemplateFailed) as failed:
        render("{{ points ", CONTEXT)
    assert failed.value.status == 422


# The sandbox.


@pytest.mark.parametrize(
    "source",
    [
        "{{ customer.name.upper() }}",
        "{{ ''.__class__.__mro__ }}",
        "{{ campaigns.append(1) }}",
        "{{ customer.items() }}",
        "{{ customer.name.ljust(100000000) }}",
        "{{ loop_free.__init__ }}",
    ],
)
def test_a_template_can_call_no_method_and_reach_no_internals(source: str) -> None:
    with pytest.raises(TemplateFailed):
        render(source, {**CONTEXT, "loop_free": "x"})


def test_a_recursive_loop_is_refused() -> None:
    source = "{% for f in friends recursive %}{{ loop(friends) }}{% endfor %}"
    assert texts(source) == ["Messages cannot use {% for … recursive %}."]


def test_at_most_fifty_friends_are_listed_but_all_are_counted() -> None:
    many = MessageContext("Anna", friends=[Friend(f"F{n}", date(2027, 1, 1)) for n in range(80)])
    context = many.as_mapping()
    assert render("{{ friends|length }} of {{ friends_count }}", context) == "50 of 80"


def test_loop_fields_stay_readable() -> None:
    source = "{% for f in friends %}{{ loop.index }}/{{ loop.length }} {% endfor %}"
    assert render(source, CONTEXT) == "1/2 2/2 "


@pytest.mark.parametrize(
    ("source", "error"),
    [
        ("{{ 'x' * 100000000 }}", "repeating text or a list more than 1000 items"),
        ("{{ [1] * 5000 }}", "repeating text or a list more than 1000 items"),
        ("{{ '%100000000s' % points }}", "formatting text with % is not allowed"),
    ],
)
def test_a_template_cannot_build_huge_values(source: str, error: str) -> None:
    with pytest.raises(TemplateFailed) as failed:
        render(source, CONTEXT)
    assert error in failed.value.message


def test_small_repetition_and_arithmetic_still_work() -> None:
    assert render("{{ '*' * 3 }} {{ points * 2 }} {{ points % 7 }}", CONTEXT) == "*** 240 1"


def test_the_output_is_bounded() -> None:
    big = MessageContext(customer_name="x" * (OUTPUT_MAX + 1)).as_mapping()
    with pytest.raises(TemplateFailed) as failed:
        render("{{ customer.name }}", big)
    assert failed.value.message == f"The message would be longer than {OUTPUT_MAX} characters."


# Checking at save time.


def test_a_good_template_has_no_problems() -> None:
    source = (
        "Hi {{ customer.first_name }}! {% if friends %}{{ friends|length }} friends joined."
        "{% endif %} {{ answers.favourite }} <{{ unsubscribe_url }}>"
    )
    assert check(source, question_keys={"favourite"}) == []


def test_a_syntax_error_names_its_line() -> None:
    assert texts("Hi\n{{ customer.name ") == [
        "Line 2: unexpected end of template, expected 'end of print statement'."
    ]


def test_an_unknown_filter_is_refused_when_saved() -> None:
    assert texts("{{ customer.name|center(80) }}") == ["Line 1: No filter named 'center'."]


@pytest.mark.parametrize("name", ["safe", "format", "replace", "tojson", "indent", "attr"])
def test_filters_that_unescape_or_build_large_values_do_not_exist(name: str) -> None:
    assert texts(f"{{{{ customer.name|{name} }}}}") == [f"Line 1: No filter named '{name}'."]


def test_a_name_outside_the_context_is_refused() -> None:
    [problem] = check("{{ config }} {{ customer.name }}")
    assert problem.template == "%(name)s is not available in messages; use one of: %(names)s."
    assert problem.params["name"] == "config"
    assert "customer" in problem.params["names"]


@pytest.mark.parametrize("name", ["range", "namespace", "lipsum", "cycler", "joiner", "dict"])
def test_jinja_s_global_helpers_are_not_available(name: str) -> None:
    assert [p.params.get("name") for p in check(f"{{{{ {name}() }}}}")] == [name]


def test_a_field_a_name_does_not_have_is_refused_with_the_fields_it_has() -> None:
    assert texts("{{ customer.emial }}") == [
        "customer has no emial; use one of: first_name, locale, name."
    ]
    assert texts("{{ next_milestone['when'] }}") == [
        "next_milestone has no when; use one of: remaining, target."
    ]


def test_an_answer_to_a_question_that_does_not_exist_is_refused() -> None:
    assert texts("{{ answers.colour }}", question_keys={"nps"}) == [
        "No survey question has the key colour."
    ]
    assert texts("{{ answers['nps'] }}", question_keys={"nps"}) == []


def test_a_typo_inside_a_loop_is_found_by_the_sample_render() -> None:
    assert texts("{% for f in friends %}{{ f.nmae }}{% endfor %}") == [
        "With sample data the template fails: 'dict object' has no attribute 'nmae'"
    ]


@pytest.mark.parametrize(
    ("source", "what"),
    [
        ("{% macro m() %}x{% endmacro %}", "{% macro %}"),
        ("{% include 'other.html' %}", "{% include %}"),
        ("{% import 'forms.html' as f %}", "{% import %}"),
        ("{% from 'forms.html' import x %}", "{% from %}"),
        ("{% extends 'base.html' %}", "{% extends %}"),
        ("{% block body %}x{% endblock %}", "{% block %}"),
        ("{% autoescape false %}{{ customer.name }}{% endautoescape %}", "{% autoescape %}"),
        ("{{ 2 ** 64 }}", "**"),
    ],
)
def test_constructs_that_escape_the_message_are_refused(source: str, what: str) -> None:
    assert texts(source, html=True) == [f"Messages cannot use {what}."]


def test_a_template_too_long_is_refused() -> None:
    assert texts("x" * (SOURCE_MAX + 1)) == [f"Keep the template to {SOURCE_MAX} characters."]


def test_the_sample_context_offers_every_name() -> None:
    sample = sample_context({"nps"})
    assert set(sample) >= {"customer", "campaign", "friends", "answers", "referral_link"}
    assert sample["answers"] == {"nps": "…"}


def test_a_message_is_checked_part_by_part() -> None:
    parts = MessageParts("", "{{ customer.name", "<p>{{ config }}</p>")
    problems = check_message(parts)
    assert [m.text for m in problems["subject"]] == ["Write the subject."]
    assert [m.text for m in problems["text"]][0].startswith("Line 1:")
    assert problems["html"][0].params["name"] == "config"


def test_a_good_message_has_no_problems() -> None:
    parts = MessageParts("Welcome {{ customer.first_name }}", "Share {{ referral_link }}")
    assert check_message(parts) == {}


def test_an_empty_text_part_is_refused() -> None:
    assert [m.text for m in check_message(MessageParts("Hi", " "))["text"]] == [
        "Write the text of the message."
    ]


# Locales.


def test_the_customer_s_locale_comes_first() -> None:
    assert choose_locale({"en", "de", "nl"}, "nl", ["de", "en"]) == "nl"


def test_a_regional_locale_falls_back_to_its_language() -> None:
    assert choose_locale({"en", "de"}, "de_AT", ["en"]) == "de"
    assert choose_locale({"en", "zh_Hant"}, "zh-Hant-TW", ["en"]) == "zh_Hant"


def test_without_the_customer_s_locale_the_campaign_s_first_is_used() -> None:
    assert choose_locale({"en", "de"}, "nl", ["de", "en"]) == "de"
    assert choose_locale({"en", "de"}, None, ["de"]) == "de"


def test_then_the_service_s_locales_in_their_order() -> None:
    assert choose_locale({"nl", "de"}, "fr", ["zh_Hans"]) == "de"


def test_any_template_is_better_than_none() -> None:
    assert choose_locale({"fr"}, "nl", ["de"]) == "fr"
    assert choose_locale(set(), "nl", ["de"]) is None
