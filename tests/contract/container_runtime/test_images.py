"""Images: pulled by digest once, and what an unreachable or unknowing registry gives."""

from __future__ import annotations

import pytest

from executor_core.errors import (
    ImageNotFound,
    RegistryUnavailable,
)
from executor_core.performers import PerformerImage
from tests.contract.container_runtime.support import (
    ListingRuntime,
    Pulls,
    SpecFactory,
)


async def test_an_unreachable_registry_raises_registry_unavailable_and_leaves_nothing(
    runtime: ListingRuntime,
    make_spec: SpecFactory,
    unreachable_image: PerformerImage,
    labels: dict[str, str],
    ensure_image_pulls: bool,
) -> None:
    with pytest.raises(RegistryUnavailable):
        await runtime.start_container(make_spec(image=unreachable_image))
    if ensure_image_pulls:
        with pytest.raises(RegistryUnavailable):
            await runtime.ensure_image(unreachable_image)

    assert await runtime.list_containers(labels) == []


@pytest.mark.parametrize("unknown", ["unknown_digest_image", "unknown_repository_image"])
async def test_what_the_registry_does_not_have_raises_image_not_found(
    runtime: ListingRuntime,
    make_spec: SpecFactory,
    labels: dict[str, str],
    request: pytest.FixtureRequest,
    unknown: str,
    ensure_image_pulls: bool,
) -> None:
    image: PerformerImage = request.getfixturevalue(unknown)

    with pytest.raises(ImageNotFound):
        await runtime.start_container(make_spec(image=image))
    if ensure_image_pulls:
        with pytest.raises(ImageNotFound):
            await runtime.ensure_image(image)

    assert await runtime.list_containers(labels) == []


async def test_a_digest_is_pulled_once_and_then_used_as_it_is(
    runtime: ListingRuntime,
    make_spec: SpecFactory,
    pullable_image: PerformerImage,
    pulls: Pulls,
) -> None:
    assert pulls() == 0

    first = await runtime.start_container(make_spec(image=pullable_image))
    assert pulls() == 1
    second = await runtime.start_container(make_spec(image=pullable_image))
    await runtime.ensure_image(pullable_image)

    assert pulls() == 1
    assert await runtime.is_running(first.container_id)
    assert await runtime.is_running(second.container_id)


async def test_a_container_reports_the_digest_of_the_image_it_was_asked_for_by(
    runtime: ListingRuntime, make_spec: SpecFactory, pullable_image: PerformerImage
) -> None:
    started = await runtime.start_container(make_spec(image=pullable_image))

    assert started.image_digest == pullable_image.digest


async def test_a_container_of_an_image_pulled_by_tag_reports_the_registry_digest(
    runtime: ListingRuntime,
    make_spec: SpecFactory,
    tagged_image: tuple[PerformerImage, str],
) -> None:
    image, digest = tagged_image

    started = await runtime.start_container(make_spec(image=image))
    again = await runtime.start_container(make_spec(image=image))  # present now, not pulled
    await runtime.remove_container(started.container_id, grace_seconds=0)
    await runtime.remove_container(again.container_id, grace_seconds=0)

    assert started.image_digest == again.image_digest == digest


async def test_a_container_of_an_image_built_locally_reports_no_digest(
    runtime: ListingRuntime, make_spec: SpecFactory, image: PerformerImage
) -> None:
    started = await runtime.start_container(make_spec(image=image))

    assert image.tag
    assert started.image_digest == ""


# --- the in-memory fake ------------------------------------------------------------------------
