"""KindRegistry and the default ``kinds``."""

from __future__ import annotations

import pytest

from platform_core.exceptions import AlreadyRegistered, NotRegistered
from platform_core.kinds.db import DbKind
from platform_core.kinds.frontend import FrontendKind
from platform_core.kinds.gateway import GatewayKind
from platform_core.kinds.service import ServiceKind
from platform_core.kinds.wsgi import WsgiKind
from platform_core.registry import Kind, KindRegistry, kinds


class ReportKind(Kind):
    name = "report"


class ReportsKind(Kind):
    name = "reports"


def test_registered_kind_can_be_got_by_name():
    registry = KindRegistry()
    report = ReportKind()
    assert registry.register(report) is report
    assert registry.is_registered("report")
    assert registry.get("report") is report
    assert registry.names() == ("report",)


def test_names_keep_registration_order():
    registry = KindRegistry()
    registry.register(ReportsKind())
    registry.register(ReportKind())
    assert registry.names() == ("reports", "report")


def test_duplicate_name_is_refused():
    registry = KindRegistry()
    first = registry.register(ReportKind())
    with pytest.raises(
        AlreadyRegistered, match="The kind 'report' is already registered."
    ):
        registry.register(ReportKind())
    assert registry.get("report") is first


def test_unknown_kind_lists_kinds_and_suggests_the_nearest():
    registry = KindRegistry()
    registry.register(ReportsKind())
    registry.register(ServiceKind())
    with pytest.raises(
        NotRegistered,
        match=r"No kind 'servce'\. Kinds: reports, service\. Did you mean 'service'\?",
    ):
        registry.get("servce")


def test_unknown_kind_without_near_name_has_no_suggestion():
    registry = KindRegistry()
    registry.register(ReportKind())
    with pytest.raises(NotRegistered, match=r"No kind 'zzz'\. Kinds: report\.$"):
        registry.get("zzz")


def test_unregistered_kind_is_gone():
    registry = KindRegistry()
    registry.register(ReportKind())
    registry.unregister("report")
    assert not registry.is_registered("report")
    assert registry.names() == ()
    registry.register(ReportKind())


def test_unregistering_an_unknown_kind_is_refused():
    registry = KindRegistry()
    registry.register(ReportsKind())
    with pytest.raises(
        NotRegistered, match=r"No kind 'report'\..*Did you mean 'reports'\?"
    ):
        registry.unregister("report")


def test_fresh_registry_does_not_share_the_default_kinds():
    assert not KindRegistry().is_registered("service")
    assert KindRegistry().names() == ()


def test_default_kinds_are_the_five_built_in_ones():
    assert kinds.names() == ("db", "service", "gateway", "frontend", "wsgi")
    expected = {
        "db": DbKind,
        "service": ServiceKind,
        "gateway": GatewayKind,
        "frontend": FrontendKind,
        "wsgi": WsgiKind,
    }
    for name, cls in expected.items():
        assert type(kinds.get(name)) is cls
        assert kinds.get(name).name == name


def test_kind_repr_names_the_kind():
    assert repr(ReportKind()) == "<Kind report>"


def test_empty_registry_says_there_are_no_kinds():
    with pytest.raises(NotRegistered, match=r"No kind 'x'\. Kinds: none\.$"):
        KindRegistry().get("x")
