package api

import "github.com/hookflow/hookflow/access"

// RuleFor is the decision table's rule of a route, for the route-by-route
// test.
func RuleFor(method, template string) access.Rule { return ruleFor(method, template) }
