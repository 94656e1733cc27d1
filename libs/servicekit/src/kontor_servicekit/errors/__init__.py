"""RFC 9457 problem details (``application/problem+json``) for every error response.

- :mod:`.problems`: the HTTP edge's problem types and the body builders;
- :mod:`.handlers`: the one mapping of errors (the domain family of
  :mod:`kontor_servicekit.domain_errors` included) to responses;
- :mod:`.openapi`: how problems are documented in OpenAPI;
- :mod:`.body_limit`: 413 for oversized request bodies;
- :mod:`.strict_json`: 400 for JSON bodies that are not RFC 8259 JSON of valid Unicode.

Everything is re-exported here, so ``from kontor_servicekit.errors import X`` works.
"""

from kontor_servicekit.errors.body_limit import DEFAULT_MAX_BODY_BYTES, BodySizeLimitMiddleware
from kontor_servicekit.errors.handlers import (
    UnhandledErrorMiddleware,
    allowed_methods,
    domain_problem,
    field_problem,
    install_error_handlers,
    problem_instance,
)
from kontor_servicekit.errors.openapi import FieldError, ProblemDetail, problem_responses
from kontor_servicekit.errors.problems import (
    PROBLEM_JSON,
    Conflict,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    ProblemError,
    Unauthorized,
    UnprocessableEntity,
    problem_body,
    problem_response,
    serialisable,
)
from kontor_servicekit.errors.strict_json import StrictJsonMiddleware, json_violations

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "PROBLEM_JSON",
    "BodySizeLimitMiddleware",
    "Conflict",
    "FieldError",
    "Forbidden",
    "NotFound",
    "PayloadTooLarge",
    "ProblemDetail",
    "ProblemError",
    "StrictJsonMiddleware",
    "Unauthorized",
    "UnhandledErrorMiddleware",
    "UnprocessableEntity",
    "allowed_methods",
    "domain_problem",
    "field_problem",
    "install_error_handlers",
    "json_violations",
    "problem_body",
    "problem_instance",
    "problem_response",
    "problem_responses",
    "serialisable",
]
