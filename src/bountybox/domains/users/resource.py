"""How a user renders: the five base fields everywhere, plus reputation/signal/impact on reporters
and on the user endpoints."""

from __future__ import annotations

from bountybox.core.jsonapi.render import Json, resource, ts
from bountybox.db.base import loaded
from bountybox.db.models import User

DEFAULT_AVATAR = "/assets/avatars/default.png"
PICTURE_SIZES = ("62x62", "82x82", "110x110", "260x260")


def profile_picture(user: User) -> dict[str, str]:
    url = loaded(user)("profile_picture_url") or DEFAULT_AVATAR
    return dict.fromkeys(PICTURE_SIZES, url)


def user_attributes(user: User, *, stats: bool = False) -> Json:
    value = loaded(user)  # users are rendered wherever activities are: a hot path
    attributes: Json = {
        "username": value("username"),
        "name": value("name"),
        "disabled": value("disabled"),
        "created_at": ts(value("created_at")),
        "profile_picture": profile_picture(user),
    }
    if stats:
        attributes["reputation"] = value("reputation")
        attributes["signal"] = value("signal")
        attributes["impact"] = value("impact")
    return attributes


def render_user(user: User, *, stats: bool = False, relationships: Json | None = None) -> Json:
    return resource("user", loaded(user)("id"), user_attributes(user, stats=stats), relationships)


def render_user_profile(user: User, participating_programs: list[Json]) -> Json:
    """GET /users/{username}: the public profile, with the caller's programs the user is in."""
    attributes = user_attributes(user, stats=True)
    attributes.update(
        bio=user.bio,
        website=user.website,
        location=user.location,
        hackerone_triager=user.hackerone_triager,
        user_type=user.user_type,
    )
    return resource(
        "user",
        user.id,
        attributes,
        {"participating_programs": {"data": participating_programs}},
    )
