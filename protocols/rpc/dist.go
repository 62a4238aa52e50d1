package rpc

import "github.com/dsim-dev/dsim/protocols/dist"

// Dist is a distribution of spans, such as service times: dist.Dist. The
// network model's distributions satisfy it, so an experiment can hand them
// to a service directly (ServiceConfig.ServiceTimeDist).
type Dist = dist.Dist

// DistConfig describes a Dist in YAML: dist.Config, the distribution
// config of every protocol family (constant, uniform, exponential,
// lognormal, pareto, weibull, normal, empirical, mixture). A service time
// must name one.
type DistConfig = dist.Config
