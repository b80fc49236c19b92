package faceadv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/idverify/idverify/shared/seal"
	"math/big"
	"sync"
	"time"

	"github.com/idverify/idverify/shared/resp"
)

// An async job lives in the store from the moment faceAdv answers
// PROCESSING until its result has been fetched or delivered, so the
// instance that accepted it may die at any point: whoever finds the job
// unfinished with no live lease (a poll with traceNo, a direct invocation
// {"resumeJob": traceNo}, or the periodic sweep) runs it again. A lease
// (SET NX PX) makes sure only one runner works on a job at a time.
//
// The job holds the validated request, personal data included, for at
// most jobTTL: WeBank keeps results three days, and so do we.
const (
	jobTTL      = 72 * time.Hour
	leaseTTL    = 90 * time.Second // > the upstream timeout of one run
	maxAttempts = 3
)

// Job states.
const (
	statePending = "pending"
	stateDone    = "done"
)

// Job is one async request.
type Job struct {
	TraceNo  string    `json:"traceNo"`
	Action   string    `json:"action"`
	Request  Request   `json:"request"`
	Sandbox  bool      `json:"sandbox"`
	Caller   string    `json:"caller"`
	State    string    `json:"state"`
	Attempts int       `json:"attempts"`
	Created  time.Time `json:"created"`
	// Envelope is the final answer once State is done.
	Envelope *Envelope `json:"envelope,omitempty"`
	// Delivered is set once the callback (if any) has been accepted.
	Delivered bool `json:"delivered"`
}

// jobStore keeps jobs: Redis when configured, memory otherwise.
type jobStore interface {
	put(ctx context.Context, j *Job) error
	get(ctx context.Context, traceNo string) (*Job, error) // nil, nil when unknown
	// lease takes the job for one runner; ok is false when someone else
	// holds it.
	lease(ctx context.Context, traceNo string, ttl time.Duration) (release func(), ok bool, err error)
	// open lists jobs not yet finished and delivered.
	open(ctx context.Context) ([]string, error)
	close(ctx context.Context, traceNo string) error
}

var errNoJob = errors.New("no such job")

// newTraceNo is 20 digits: milliseconds since the epoch then 7 random
// digits, like the seed's example (digits only, roughly sortable by time).
func newTraceNo(now time.Time) string {
	n, _ := rand.Int(rand.Reader, big.NewInt(10_000_000))
	return fmt.Sprintf("%013d%07d", now.UnixMilli(), n.Int64())
}

type redisJobs struct {
	rdb  *resp.Client
	keys *seal.Keys // nil: jobs in the clear (IDV_STORE_KEY unset)
}

const jobPrefix = "idv:faceadv:job:"
const openSet = "idv:faceadv:open"

func (s redisJobs) put(ctx context.Context, j *Job) error {
	plain, err := json.Marshal(j)
	if err != nil {
		return err
	}
	// The slot binds the sealed job to its traceNo.
	b, err := s.keys.Seal(jobPrefix+j.TraceNo, plain)
	if err != nil {
		return err
	}
	cmds := [][]any{{"SET", jobPrefix + j.TraceNo, b, "PX", jobTTL.Milliseconds()}}
	if j.State != stateDone || !j.Delivered {
		cmds = append(cmds, []any{"ZADD", openSet, float64(j.Created.Unix()), j.TraceNo})
	}
	_, err = s.rdb.Tx(ctx, cmds...)
	return err
}

func (s redisJobs) get(ctx context.Context, traceNo string) (*Job, error) {
	b, err := s.rdb.Get(ctx, jobPrefix+traceNo).Bytes()
	if errors.Is(err, resp.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	plain, err := s.keys.Open(jobPrefix+traceNo, b)
	if err != nil {
		return nil, err
	}
	var j Job
	if err := json.Unmarshal(plain, &j); err != nil {
		return nil, err
	}
	return &j, nil
}

var releaseScript = resp.NewScript(`if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) end return 0`)

func (s redisJobs) lease(ctx context.Context, traceNo string, ttl time.Duration) (func(), bool, error) {
	var b [16]byte
	_, _ = rand.Read(b[:])
	owner := hex.EncodeToString(b[:])
	key := jobPrefix + traceNo + ":lease"
	ok, err := s.rdb.SetNX(ctx, key, owner, ttl).Bool()
	if err != nil || !ok {
		return nil, false, err
	}
	return func() {
		c, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = releaseScript.Run(c, s.rdb, []string{key}, owner).Err()
	}, true, nil
}

func (s redisJobs) open(ctx context.Context) ([]string, error) {
	return s.rdb.ZRange(ctx, openSet, 0, 999).StringSlice()
}

func (s redisJobs) close(ctx context.Context, traceNo string) error {
	return s.rdb.ZRem(ctx, openSet, traceNo).Err()
}

// memJobs is the store of one instance without Redis: jobs survive
// nothing, which is acceptable for a local server only (Build refuses
// async requests on Lambda/SCF event functions without Redis).
type memJobs struct {
	mu     sync.Mutex
	jobs   map[string][]byte
	leases map[string]time.Time
	opened map[string]bool
}

func newMemJobs() *memJobs {
	return &memJobs{jobs: map[string][]byte{}, leases: map[string]time.Time{}, opened: map[string]bool{}}
}

func (s *memJobs) put(_ context.Context, j *Job) error {
	b, err := json.Marshal(j)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.jobs[j.TraceNo] = b
	if j.State != stateDone || !j.Delivered {
		s.opened[j.TraceNo] = true
	}
	return nil
}

func (s *memJobs) get(_ context.Context, traceNo string) (*Job, error) {
	s.mu.Lock()
	b, ok := s.jobs[traceNo]
	s.mu.Unlock()
	if !ok {
		return nil, nil
	}
	var j Job
	if err := json.Unmarshal(b, &j); err != nil {
		return nil, err
	}
	return &j, nil
}

func (s *memJobs) lease(_ context.Context, traceNo string, ttl time.Duration) (func(), bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if until, ok := s.leases[traceNo]; ok && time.Now().Before(until) {
		return nil, false, nil
	}
	s.leases[traceNo] = time.Now().Add(ttl)
	return func() {
		s.mu.Lock()
		delete(s.leases, traceNo)
		s.mu.Unlock()
	}, true, nil
}

func (s *memJobs) open(context.Context) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.opened))
	for k := range s.opened {
		out = append(out, k)
	}
	return out, nil
}

func (s *memJobs) close(_ context.Context, traceNo string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.opened, traceNo)
	return nil
}
