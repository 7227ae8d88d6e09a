"""Every question shoplens answers, and the one runner that answers it.

A question is a frozen pydantic :class:`Query`; its answer a typed :class:`Result`. Each is registered once (with
:func:`answers`) beside its computation, and :class:`QueryRunner` — built from a store's settings, or over a bare
Ibis backend — answers it through the memory cache (:class:`ResultStore`, for long-running processes), the disk
cache and finally the warehouse. The command line, the API, the dashboard and the reports only parse, run, render.
"""

from shoplens.queries._analytics import (
    BehaviourQuery,
    BehaviourResult,
    CohortQuery,
    CohortResult,
    LifecycleQuery,
    LifecycleResult,
    RfmQuery,
    RfmResult,
    SegmentRow,
    StageQuery,
    StageResult,
)
from shoplens.queries._base import Query, Registered, Result, Row, answers, registered, registration
from shoplens.queries._compare import COMPARED_KPIS, KpiComparisonQuery, KpiComparisonResult
from shoplens.queries._context import NoOrdersError, QueryContext, rows
from shoplens.queries._customers import (
    MAX_PAGE_SIZE,
    CustomerDetailQuery,
    CustomerDetailResult,
    CustomerListQuery,
    CustomerListResult,
)
from shoplens.queries._guard import GuardQuery, GuardResult
from shoplens.queries._market import (
    CompetitorSpec,
    MarketPositionQuery,
    MarketPositionResult,
    MarketSizeSpec,
    market_position_query,
)
from shoplens.queries._memory import ResultStore, StillComputingError
from shoplens.queries._partner_plans import PlanProgressQuery, PlanProgressResult
from shoplens.queries._plans import (
    ACQUISITION_GROUPINGS,
    AcquisitionQuery,
    AcquisitionResult,
    BudgetSpec,
    BudgetStatusQuery,
    BudgetStatusResult,
    TargetPacingQuery,
    TargetPacingResult,
    TargetSpec,
    TargetSuggestQuery,
    TargetSuggestResult,
    target_specs,
)
from shoplens.queries._preferences import (
    PreferenceQuery,
    PreferenceResult,
    PreferenceShiftQuery,
    PreferenceShiftResult,
)
from shoplens.queries._profit import PROFIT_BY, ProfitQuery, ProfitResult
from shoplens.queries._recommend import RecommendQuery, RecommendResult
from shoplens.queries._runner import QueryRunner
from shoplens.queries._sales import (
    BasketQuery,
    BasketResult,
    FunnelQuery,
    FunnelResult,
    KpiQuery,
    KpiResult,
    ProductQuery,
    ProductResult,
    SessionQuery,
    SessionResult,
)
from shoplens.queries._service import ServiceQuery, ServiceResult
from shoplens.queries._store import BackendSource, NoStoreError, Opened, Source, StoreBusyError, StoreSource
from shoplens.queries._suggest import (
    AlsoBoughtQuery,
    AlsoBoughtResult,
    CustomerSuggestQuery,
    CustomerSuggestResult,
    SuggestEvaluationQuery,
    SuggestEvaluationResult,
)
from shoplens.queries._suppliers import SupplierQuery, SupplierResult
from shoplens.queries._value import (
    ClvFitQuery,
    ClvFitResult,
    ClvPredictQuery,
    ClvPredictResult,
    ClvSummaryQuery,
    ClvSummaryResult,
    ForecastQuery,
    ForecastResult,
)
from shoplens.queries._voice import NeedsQuery, NeedsResult, ThemesQuery, ThemesResult

__all__ = [
    "ACQUISITION_GROUPINGS",
    "COMPARED_KPIS",
    "MAX_PAGE_SIZE",
    "PROFIT_BY",
    "AcquisitionQuery",
    "AcquisitionResult",
    "AlsoBoughtQuery",
    "AlsoBoughtResult",
    "BackendSource",
    "BasketQuery",
    "BasketResult",
    "BehaviourQuery",
    "BehaviourResult",
    "BudgetSpec",
    "BudgetStatusQuery",
    "BudgetStatusResult",
    "ClvFitQuery",
    "ClvFitResult",
    "ClvPredictQuery",
    "ClvPredictResult",
    "ClvSummaryQuery",
    "ClvSummaryResult",
    "CohortQuery",
    "CohortResult",
    "CompetitorSpec",
    "CustomerDetailQuery",
    "CustomerDetailResult",
    "CustomerListQuery",
    "CustomerListResult",
    "CustomerSuggestQuery",
    "CustomerSuggestResult",
    "ForecastQuery",
    "ForecastResult",
    "FunnelQuery",
    "FunnelResult",
    "GuardQuery",
    "GuardResult",
    "KpiComparisonQuery",
    "KpiComparisonResult",
    "KpiQuery",
    "KpiResult",
    "LifecycleQuery",
    "LifecycleResult",
    "MarketPositionQuery",
    "MarketPositionResult",
    "MarketSizeSpec",
    "NeedsQuery",
    "NeedsResult",
    "NoOrdersError",
    "NoStoreError",
    "Opened",
    "PlanProgressQuery",
    "PlanProgressResult",
    "PreferenceQuery",
    "PreferenceResult",
    "PreferenceShiftQuery",
    "PreferenceShiftResult",
    "ProductQuery",
    "ProductResult",
    "ProfitQuery",
    "ProfitResult",
    "Query",
    "QueryContext",
    "QueryRunner",
    "RecommendQuery",
    "RecommendResult",
    "Registered",
    "Result",
    "ResultStore",
    "RfmQuery",
    "RfmResult",
    "Row",
    "SegmentRow",
    "ServiceQuery",
    "ServiceResult",
    "SessionQuery",
    "SessionResult",
    "Source",
    "StageQuery",
    "StageResult",
    "StillComputingError",
    "StoreBusyError",
    "StoreSource",
    "SuggestEvaluationQuery",
    "SuggestEvaluationResult",
    "SupplierQuery",
    "SupplierResult",
    "TargetPacingQuery",
    "TargetPacingResult",
    "TargetSpec",
    "TargetSuggestQuery",
    "TargetSuggestResult",
    "ThemesQuery",
    "ThemesResult",
    "answers",
    "market_position_query",
    "registered",
    "registration",
    "rows",
    "target_specs",
]
