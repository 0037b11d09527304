package storage

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestAdmitSave(t *testing.T) {
	db := &DB{saves: make(chan struct{}, 2)}
	ctx := context.Background()
	end1, err := db.admitSave(ctx)
	if err != nil {
		t.Fatal(err)
	}
	end2, err := db.admitSave(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Full: a third save waits, and gives up when its request does.
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := db.admitSave(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a save past the full gate: %v, want the context's deadline", err)
	}
	// Waiting saves are admitted as turns end, never more than the gate
	// holds at once.
	admitted := make(chan int, 3)
	for i := range 3 {
		go func() {
			end, err := db.admitSave(ctx)
			if err != nil {
				t.Error(err)
				return
			}
			if n := len(db.saves); n > 2 {
				t.Errorf("%d saves admitted at once, gate of 2", n)
			}
			admitted <- i
			end()
		}()
	}
	select {
	case i := <-admitted:
		t.Fatalf("save %d admitted while the gate was full", i)
	case <-time.After(20 * time.Millisecond):
	}
	end1()
	end2()
	for range 3 {
		select {
		case <-admitted:
		case <-time.After(5 * time.Second):
			t.Fatal("a waiting save was never admitted")
		}
	}
	for deadline := time.Now().Add(5 * time.Second); len(db.saves) != 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d turns still taken after every save ended", len(db.saves))
		}
	}
	// Without a gate (SQLite) a save is admitted at once.
	end, err := (&DB{}).admitSave(ctx)
	if err != nil {
		t.Fatal(err)
	}
	end()
}
