module github.com/seqshim/seqshim

go 1.26
