package service

import (
	"context"
	"errors"
	"fmt"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/hookflow/hookflow/ids"
	"github.com/hookflow/hookflow/store"
	"github.com/hookflow/hookflow/workflows"
)

// ErrApplicationNotFound is an application named in a path that does not
// exist; the API answers 404 application_not_found.
var ErrApplicationNotFound = errors.New("application not found")

// NewApplication is what a caller may set when creating an application.
type NewApplication struct {
	// ID is the client's id; empty: generate one.
	ID       string
	Name     string
	Metadata map[string]string
}

// CreateApplication stores a new application. A client-given id must be
// URL-safe (ids.Valid) and free.
func (s *Service) CreateApplication(ctx context.Context, in NewApplication) (store.Application, error) {
	if in.ID == "" {
		in.ID = ids.NewApplication()
	} else if !ids.Valid(in.ID) {
		return store.Application{}, invalid("the request has invalid fields", FieldProblem{
			Field: "id", Rule: "url_safe_id",
			Message: fmt.Sprintf("must be at most %d characters of letters, digits and _ . : -", ids.MaxEventIDLength),
		})
	}
	now := s.now()
	a := store.Application{ID: in.ID, Name: in.Name, Metadata: in.Metadata, CreatedAt: now, UpdatedAt: now}
	if a.Metadata == nil {
		a.Metadata = map[string]string{}
	}
	if err := s.Store.CreateApplication(ctx, a); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return store.Application{}, fmt.Errorf("application %s already exists: %w", in.ID, ErrConflict)
		}
		return store.Application{}, storeErr(err, "create application")
	}
	return a, nil
}

// GetApplication returns one application.
func (s *Service) GetApplication(ctx context.Context, id string) (store.Application, error) {
	a, err := s.Store.GetApplication(ctx, id)
	return a, appErr(err, id)
}

// CheckApplication fails with ErrApplicationNotFound unless app exists. The
// API asks it before anything else on a route under an application, so
// that an unknown application is told apart from an unknown resource.
func (s *Service) CheckApplication(ctx context.Context, app string) error {
	if app == store.DefaultApplication {
		return nil // always exists: the top-level routes cost no lookup
	}
	_, err := s.Store.GetApplication(ctx, app)
	return appErr(err, app)
}

// ListApplications returns a page of applications and the cursor of the
// next page, empty on the last one.
func (s *Service) ListApplications(ctx context.Context, p store.ListApplicationsParams) ([]store.Application, string, error) {
	limit := p.Limit
	p.Limit++
	apps, err := s.Store.ListApplications(ctx, p)
	if err != nil {
		return nil, "", storeErr(err, "list applications")
	}
	if len(apps) > limit {
		apps = apps[:limit]
		return apps, apps[limit-1].ID, nil
	}
	return apps, "", nil
}

// ApplicationPatch changes an application; a nil field keeps what is there.
type ApplicationPatch struct {
	Name     *string
	Metadata map[string]string
	// SetMetadata replaces the metadata with Metadata (nil empties it).
	SetMetadata bool
}

// UpdateApplication applies a patch and returns the application as it is now.
func (s *Service) UpdateApplication(ctx context.Context, id string, p ApplicationPatch) (store.Application, error) {
	a, err := s.Store.GetApplication(ctx, id)
	if err != nil {
		return store.Application{}, appErr(err, id)
	}
	if p.Name != nil {
		a.Name = *p.Name
	}
	if p.SetMetadata {
		a.Metadata = p.Metadata
		if a.Metadata == nil {
			a.Metadata = map[string]string{}
		}
	}
	a.UpdatedAt = s.now()
	if err := s.Store.UpdateApplication(ctx, a); err != nil {
		return store.Application{}, appErr(err, id)
	}
	return a, nil
}

// ApplicationDeletion is the answer to deleting an application.
type ApplicationDeletion struct {
	ID string
	// WorkflowID is the workflow cancelling the application's unfinished
	// deliveries.
	WorkflowID string
	RunID      string
}

// DeleteApplication removes an application: its subscriptions go with it
// in one transaction, so from then on no event is matched to them and no
// delivery under way sends anything more (a delivery whose subscription is
// gone ends at its next attempt). Its unfinished deliveries are then
// cancelled by a workflow, page by page, which survives a crash of this
// process. The reserved applications are ErrConflict.
func (s *Service) DeleteApplication(ctx context.Context, id string) (ApplicationDeletion, error) {
	if store.IsReservedApplication(id) {
		return ApplicationDeletion{}, fmt.Errorf("application %s always exists and cannot be deleted: %w", id, ErrConflict)
	}
	if err := s.Store.DeleteApplication(ctx, id); err != nil {
		return ApplicationDeletion{}, appErr(err, id)
	}
	wid := ids.ApplicationDeleteWorkflow(id)
	run, err := s.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                    wid,
		TaskQueue:             s.TaskQueue,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		StaticSummary:         fmt.Sprintf("cancel the unfinished deliveries of deleted app %s", id),
		TypedSearchAttributes: temporal.NewSearchAttributes(workflows.AttrApplicationID.ValueSet(id)),
	}, workflows.DeleteApplicationWorkflowName, workflows.DeleteApplicationInput{ApplicationID: id})
	if err != nil {
		// The application is gone already: nothing new reaches its
		// subscriptions. Deliveries under way end at their next attempt
		// (their subscription is gone); the caller may delete again, which
		// answers 404, so say what happened.
		return ApplicationDeletion{}, temporalErr(err, fmt.Sprintf("application %s was deleted, but starting the cancellation of its deliveries", id))
	}
	s.log().Info("application deleted", "application", id, "workflow_id", wid, "run_id", run.GetRunID())
	return ApplicationDeletion{ID: id, WorkflowID: wid, RunID: run.GetRunID()}, nil
}

// appErr maps a store error about the application id onto the service's.
func appErr(err error, id string) error {
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrApplicationNotFound) {
		return fmt.Errorf("application %s: %w", id, ErrApplicationNotFound)
	}
	return storeErr(err, "application "+id)
}
