package store

import (
	"context"
	"fmt"

	"github.com/hookflow/hookflow/secretbox"
)

// Option changes how Open sets up the store.
type Option func(*SQL)

// WithSecretBox makes the store seal subscriber secrets (current and
// previous) with box before they reach the database, and open them when
// they are read back, so that callers only ever see plaintext and a copy of
// the database holds only "enc:v1:..." values. Rows written before a key was
// configured keep reading as they are; ResealSecrets rewrites them.
func WithSecretBox(box *secretbox.Box) Option {
	return func(s *SQL) { s.box = box }
}

// sealSecrets returns sub with its secrets as they are stored. An empty
// secret (no previous one) stays empty.
func (s *SQL) sealSecrets(sub Subscription) (Subscription, error) {
	var err error
	if sub.Secret, err = s.seal(sub.Secret); err != nil {
		return Subscription{}, fmt.Errorf("store: seal secret of %s: %w", sub.ID, err)
	}
	if sub.PreviousSecret, err = s.seal(sub.PreviousSecret); err != nil {
		return Subscription{}, fmt.Errorf("store: seal previous secret of %s: %w", sub.ID, err)
	}
	return sub, nil
}

func (s *SQL) seal(secret string) (string, error) {
	if secret == "" {
		return "", nil
	}
	return s.box.Seal(secret)
}

// openSecrets turns the stored secrets of sub back into plaintext.
func (s *SQL) openSecrets(sub *Subscription) error {
	var err error
	if sub.Secret, err = s.box.Open(sub.Secret); err != nil {
		return fmt.Errorf("store: open secret of %s: %w", sub.ID, err)
	}
	if sub.PreviousSecret, err = s.box.Open(sub.PreviousSecret); err != nil {
		return fmt.Errorf("store: open previous secret of %s: %w", sub.ID, err)
	}
	return nil
}

// resealBatch is how many subscriptions ResealSecrets reads at a time.
const resealBatch = 500

// ResealSecrets rewrites every stored secret that is not sealed with the
// current key of the store's secret box: plaintext rows written before
// HOOKFLOW_SECRET_KEY was set, and rows sealed with an older key. Once it
// has run with a new key first in the list, the older keys can be dropped.
// It returns how many subscriptions it rewrote. Without a key it does
// nothing.
//
// A row changed meanwhile (a rotation through the API) is left alone: each
// update applies only if the row still holds what was read, so running it
// from several processes at once is safe.
func (s *SQL) ResealSecrets(ctx context.Context) (int, error) {
	if !s.box.Enabled() {
		return 0, nil
	}
	resealed, after := 0, ""
	for {
		var batch []struct {
			ID       string `db:"id"`
			Secret   string `db:"secret"`
			Previous string `db:"previous_secret"`
		}
		if err := selectRows(ctx, s.db, &batch, `SELECT id, secret, previous_secret FROM subscriptions
			WHERE id > ? ORDER BY id LIMIT ?`, after, resealBatch); err != nil {
			return resealed, fmt.Errorf("store: read secrets: %w", err)
		}
		for _, r := range batch {
			if !s.box.NeedsReseal(r.Secret) && (r.Previous == "" || !s.box.NeedsReseal(r.Previous)) {
				continue
			}
			sub := Subscription{ID: r.ID, Secret: r.Secret, PreviousSecret: r.Previous}
			if err := s.openSecrets(&sub); err != nil {
				return resealed, err
			}
			sealed, err := s.sealSecrets(sub)
			if err != nil {
				return resealed, err
			}
			res, err := exec(ctx, s.db, `UPDATE subscriptions SET secret = ?, previous_secret = ?
				WHERE id = ? AND secret = ? AND previous_secret = ?`,
				sealed.Secret, sealed.PreviousSecret, r.ID, r.Secret, r.Previous)
			if err != nil {
				return resealed, fmt.Errorf("store: reseal secrets of %s: %w", r.ID, err)
			}
			if n, _ := res.RowsAffected(); n == 1 {
				resealed++
			}
		}
		if len(batch) < resealBatch {
			return resealed, nil
		}
		after = batch[len(batch)-1].ID
	}
}
