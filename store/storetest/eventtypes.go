package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookflow/hookflow/store"
)

func exerciseEventTypes(t *testing.T, newStore func(t *testing.T) store.Store) {
	s := newStore(t)
	ctx := context.Background()
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	schema := []byte(`{"type":"object"}`)
	require.NoError(t, s.CreateEventType(ctx, store.EventType{Name: "order.created", Schema: schema, CreatedAt: t0, UpdatedAt: t0}))
	require.ErrorIs(t, s.CreateEventType(ctx, store.EventType{Name: "order.created", CreatedAt: t0, UpdatedAt: t0}), store.ErrConflict)
	require.NoError(t, s.CreateEventType(ctx, store.EventType{Name: "a.first", Description: "first", CreatedAt: t0, UpdatedAt: t0}))

	got, err := s.GetEventType(ctx, "order.created")
	require.NoError(t, err)
	require.JSONEq(t, string(schema), string(got.Schema))
	require.Equal(t, t0, got.CreatedAt)
	_, err = s.GetEventType(ctx, "nope")
	require.ErrorIs(t, err, store.ErrNotFound)

	t1 := t0.Add(time.Hour)
	put, created, err := s.PutEventType(ctx, store.EventType{Name: "order.created", Description: "changed", CreatedAt: t1, UpdatedAt: t1})
	require.NoError(t, err)
	require.False(t, created)
	require.Equal(t, t0, put.CreatedAt, "replacing keeps the creation time")
	got, err = s.GetEventType(ctx, "order.created")
	require.NoError(t, err)
	require.Equal(t, "changed", got.Description)
	require.Nil(t, got.Schema, "replacing without a schema removes it")
	require.Equal(t, t1, got.UpdatedAt)
	_, created, err = s.PutEventType(ctx, store.EventType{Name: "z.last", CreatedAt: t1, UpdatedAt: t1})
	require.NoError(t, err)
	require.True(t, created)

	page, err := s.ListEventTypes(ctx, store.ListEventTypesParams{Limit: 2})
	require.NoError(t, err)
	require.Equal(t, []string{"a.first", "order.created"}, eventTypeNames(page))
	page, err = s.ListEventTypes(ctx, store.ListEventTypesParams{After: "order.created", Limit: 2})
	require.NoError(t, err)
	require.Equal(t, []string{"z.last"}, eventTypeNames(page))
}

func eventTypeNames(ts []store.EventType) []string {
	out := make([]string, 0, len(ts))
	for _, t := range ts {
		out = append(out, t.Name)
	}
	return out
}
