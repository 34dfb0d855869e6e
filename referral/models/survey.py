"""Surveys of survey campaigns: questions, their options, responses and answers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from referral.models.base import Model, Timestamped, UTCDateTime, WorkspaceScoped
from referral.models.keys import optional_key, parent_key


class Survey(WorkspaceScoped, Timestamped, Model):
    """The questionnaire of one survey campaign.

    ``anonymous`` keeps answers apart from contact details: responses then carry no
    participation, only a keyed hash that stops a second response. ``quota`` closes the
    campaign when that many responses are in.
    """

    __tablename__ = "surveys"
    __table_args__ = (CheckConstraint("quota IS NULL OR quota > 0", name="quota_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = parent_key("campaigns", unique=True)
    intro: Mapped[str] = mapped_column(Text, default="", nullable=False)
    anonymous: Mapped[bool] = mapped_column(default=False, nullable=False)
    quota: Mapped[int | None] = mapped_column()
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    questions: Mapped[list[SurveyQuestion]] = relationship(
        back_populates="survey",
        order_by="(SurveyQuestion.position, SurveyQuestion.id)",
        cascade="all, delete-orphan",
    )


class SurveyQuestion(Timestamped, Model):
    """One question; choice questions have options, the others none."""

    __tablename__ = "survey_questions"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('single', 'multiple', 'rating', 'nps', 'short_text', 'long_text')",
            name="kind",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = parent_key("surveys")
    position: Mapped[int] = mapped_column(default=0, nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    prompt: Mapped[str] = mapped_column(String(300), nullable=False)
    required: Mapped[bool] = mapped_column(default=True, nullable=False)

    survey: Mapped[Survey] = relationship(back_populates="questions")
    options: Mapped[list[SurveyOption]] = relationship(
        order_by="(SurveyOption.position, SurveyOption.id)", cascade="all, delete-orphan"
    )


class SurveyOption(Model):
    """A choice of a single or multiple choice question."""

    __tablename__ = "survey_options"

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = parent_key("survey_questions")
    position: Mapped[int] = mapped_column(default=0, nullable=False)
    label: Mapped[str] = mapped_column(String(200), nullable=False)


class SurveyResponse(Timestamped, Model):
    """One participant's completed survey, at most one per participant.

    ``respondent`` is a keyed hash of (survey, participation): the unique key that makes a
    second response impossible, also under concurrent submits, and that names nobody.
    ``participation_id`` is left empty when the survey is anonymous.
    """

    __tablename__ = "survey_responses"
    __table_args__ = (UniqueConstraint("survey_id", "respondent"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = parent_key("surveys")
    respondent: Mapped[str] = mapped_column(String(64), nullable=False)
    participation_id: Mapped[int | None] = optional_key("participations", index=True)


class SurveyAnswer(Model):
    """One answer: a chosen option (one row per option of a multiple choice), a number
    (rating 1-5, NPS 0-10) or a text."""

    __tablename__ = "survey_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = parent_key("survey_responses")
    question_id: Mapped[int] = parent_key("survey_questions")
    option_id: Mapped[int | None] = optional_key("survey_options", ondelete="CASCADE", index=True)
    number: Mapped[int | None] = mapped_column()
    text: Mapped[str | None] = mapped_column(Text)
