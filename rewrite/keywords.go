package rewrite

// keyword identifies the key words (and a few names) the planner looks at.
type keyword uint8

const (
	kwNone keyword = iota
	kwAll
	kwAlter
	kwAnalyse
	kwAnalyze
	kwAnd
	kwAny
	kwArray
	kwAs
	kwAsymmetric
	kwAtomic
	kwBegin
	kwBetween
	kwBigint
	kwBit
	kwBool
	kwBoolean
	kwBy
	kwCall
	kwCase
	kwChar
	kwCharacter
	kwCollate
	kwComment
	kwConflict
	kwCopy
	kwCreate
	kwCurrval
	kwCycle
	kwDay
	kwDefault
	kwDelete
	kwDistinct
	kwDo
	kwDouble
	kwDrop
	kwDual
	kwElse
	kwEnd
	kwEscape
	kwExcept
	kwExplain
	kwFalse
	kwFetch
	kwFirst
	kwFor
	kwFrom
	kwFunction
	kwGlobal
	kwGrant
	kwGroup
	kwHaving
	kwHour
	kwIlike
	kwIn
	kwInsert
	kwInt
	kwInt2
	kwInt4
	kwInt8
	kwInteger
	kwIntersect
	kwInterval
	kwInto
	kwIs
	kwJoin
	kwLastval
	kwLateral
	kwLike
	kwLimit
	kwLocal
	kwMaterialized
	kwMerge
	kwMinute
	kwMonth
	kwName
	kwNational
	kwNatural
	kwNext
	kwNextval
	kwNot
	kwOf
	kwOffset
	kwOn
	kwOr
	kwOrder
	kwOver
	kwOverlaps
	kwOverriding
	kwPgCatalog
	kwPrecision
	kwPrepare
	kwProcedure
	kwRecursive
	kwRegclass
	kwReplace
	kwReturn
	kwReturning
	kwRevoke
	kwSearch
	kwSecond
	kwSelect
	kwSet
	kwSetval
	kwSimilar
	kwSmallint
	kwSome
	kwSymmetric
	kwSystem
	kwTable
	kwTemp
	kwTemporary
	kwText
	kwThen
	kwTime
	kwTimestamp
	kwTo
	kwTrue
	kwUescape
	kwUnion
	kwUnlogged
	kwUpdate
	kwUser
	kwUsing
	kwValue
	kwValues
	kwVarchar
	kwVarying
	kwView
	kwWhen
	kwWhere
	kwWindow
	kwWith
	kwWithin
	kwWithout
	kwYear
	kwZone
)

// keywordNames maps each keyword to its lower-case spelling.
var keywordNames = [...]string{
	kwAll:          "all",
	kwAlter:        "alter",
	kwAnalyse:      "analyse",
	kwAnalyze:      "analyze",
	kwAnd:          "and",
	kwAny:          "any",
	kwArray:        "array",
	kwAs:           "as",
	kwAsymmetric:   "asymmetric",
	kwAtomic:       "atomic",
	kwBegin:        "begin",
	kwBetween:      "between",
	kwBigint:       "bigint",
	kwBit:          "bit",
	kwBool:         "bool",
	kwBoolean:      "boolean",
	kwBy:           "by",
	kwCall:         "call",
	kwCase:         "case",
	kwChar:         "char",
	kwCharacter:    "character",
	kwCollate:      "collate",
	kwComment:      "comment",
	kwConflict:     "conflict",
	kwCopy:         "copy",
	kwCreate:       "create",
	kwCurrval:      "currval",
	kwCycle:        "cycle",
	kwDay:          "day",
	kwDefault:      "default",
	kwDelete:       "delete",
	kwDistinct:     "distinct",
	kwDo:           "do",
	kwDouble:       "double",
	kwDrop:         "drop",
	kwDual:         "dual",
	kwElse:         "else",
	kwEnd:          "end",
	kwEscape:       "escape",
	kwExcept:       "except",
	kwExplain:      "explain",
	kwFalse:        "false",
	kwFetch:        "fetch",
	kwFirst:        "first",
	kwFor:          "for",
	kwFrom:         "from",
	kwFunction:     "function",
	kwGlobal:       "global",
	kwGrant:        "grant",
	kwGroup:        "group",
	kwHaving:       "having",
	kwHour:         "hour",
	kwIlike:        "ilike",
	kwIn:           "in",
	kwInsert:       "insert",
	kwInt:          "int",
	kwInt2:         "int2",
	kwInt4:         "int4",
	kwInt8:         "int8",
	kwInteger:      "integer",
	kwIntersect:    "intersect",
	kwInterval:     "interval",
	kwInto:         "into",
	kwIs:           "is",
	kwJoin:         "join",
	kwLastval:      "lastval",
	kwLateral:      "lateral",
	kwLike:         "like",
	kwLimit:        "limit",
	kwLocal:        "local",
	kwMaterialized: "materialized",
	kwMerge:        "merge",
	kwMinute:       "minute",
	kwMonth:        "month",
	kwName:         "name",
	kwNational:     "national",
	kwNatural:      "natural",
	kwNext:         "next",
	kwNextval:      "nextval",
	kwNot:          "not",
	kwOf:           "of",
	kwOffset:       "offset",
	kwOn:           "on",
	kwOr:           "or",
	kwOrder:        "order",
	kwOver:         "over",
	kwOverlaps:     "overlaps",
	kwOverriding:   "overriding",
	kwPgCatalog:    "pg_catalog",
	kwPrecision:    "precision",
	kwPrepare:      "prepare",
	kwProcedure:    "procedure",
	kwRecursive:    "recursive",
	kwRegclass:     "regclass",
	kwReplace:      "replace",
	kwReturn:       "return",
	kwReturning:    "returning",
	kwRevoke:       "revoke",
	kwSearch:       "search",
	kwSecond:       "second",
	kwSelect:       "select",
	kwSet:          "set",
	kwSetval:       "setval",
	kwSimilar:      "similar",
	kwSmallint:     "smallint",
	kwSome:         "some",
	kwSymmetric:    "symmetric",
	kwSystem:       "system",
	kwTable:        "table",
	kwTemp:         "temp",
	kwTemporary:    "temporary",
	kwText:         "text",
	kwThen:         "then",
	kwTime:         "time",
	kwTimestamp:    "timestamp",
	kwTo:           "to",
	kwTrue:         "true",
	kwUescape:      "uescape",
	kwUnion:        "union",
	kwUnlogged:     "unlogged",
	kwUpdate:       "update",
	kwUser:         "user",
	kwUsing:        "using",
	kwValue:        "value",
	kwValues:       "values",
	kwVarchar:      "varchar",
	kwVarying:      "varying",
	kwView:         "view",
	kwWhen:         "when",
	kwWhere:        "where",
	kwWindow:       "window",
	kwWith:         "with",
	kwWithin:       "within",
	kwWithout:      "without",
	kwYear:         "year",
	kwZone:         "zone",
}

// maxKeywordLen is the length of the longest key word.
const maxKeywordLen = 12

// keywordTable is an open-addressing hash table of the key words, indexed
// by kwHash of the lower-case spelling.
var keywordTable = func() (t [512]keyword) {
	for k, s := range keywordNames {
		if k == 0 {
			continue
		}
		h := kwHash(s)
		for t[h] != kwNone {
			h = (h + 1) & (len(t) - 1)
		}
		t[h] = keyword(k)
	}
	return t
}()

// kwHash hashes an identifier case-insensitively (ASCII) from its length
// and four of its bytes.
func kwHash(s string) int {
	n := len(s)
	h := uint32(n)*0x9E3779B1 ^ uint32(s[0]|0x20)<<5 ^ uint32(s[1]|0x20)<<10 ^
		uint32(s[n-1]|0x20)<<15 ^ uint32(s[n-2]|0x20)<<20
	h *= 0x85EBCA6B
	return int(h>>23) & 511
}

// keywordShapes has, for each pair of first and last letters (a-z, then
// anything else), a bit for each length of a key word spelt with them: a
// quick way to reject most identifiers (orders, customer_id) without
// hashing them.
var keywordShapes = func() (m [27 * 27]uint16) {
	for k, s := range keywordNames {
		if k > 0 {
			m[shapeIndex(s[0])*27+shapeIndex(s[len(s)-1])] |= 1 << len(s)
		}
	}
	return m
}()

func shapeIndex(c byte) int {
	c |= 0x20
	if c >= 'a' && c <= 'z' {
		return int(c - 'a')
	}
	return 26
}

// lookupKeyword returns the key word that the unquoted identifier s spells
// (case-insensitively), or kwNone.
func lookupKeyword(s string) keyword {
	if len(s) < 2 || len(s) > maxKeywordLen || keywordShapes[shapeIndex(s[0])*27+shapeIndex(s[len(s)-1])]&(1<<len(s)) == 0 {
		return kwNone
	}
	for h := kwHash(s); ; h = (h + 1) & 511 {
		k := keywordTable[h]
		if k == kwNone {
			return kwNone
		}
		if w := keywordNames[k]; len(w) == len(s) && asciiFoldEqual(s, w) {
			return k
		}
	}
}

// asciiFoldEqual reports whether s equals the lower-case word w, ignoring
// ASCII case.
func asciiFoldEqual(s, w string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != w[i] {
			return false
		}
	}
	return true
}
