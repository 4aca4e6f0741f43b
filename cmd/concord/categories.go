package main

import (
	"github.com/spf13/cobra"

	"github.com/concordnet/concord/node/api"
	"github.com/concordnet/concord/protocol"
)

func newCategoriesCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "categories",
		Short: "List the crime categories a topic can have",
		Long: `List the crime categories of the taxonomy, taken from the United Nations
Declaration on Crime and Public Security (1996): the slug to give to
concord topic create, the title, and the Declaration's articles.`,
		Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			// The taxonomy is part of the protocol: no daemon needed.
			var cats []api.Category
			for _, cat := range protocol.Categories() {
				cats = append(cats, api.Category{Slug: cat.Slug, Title: cat.Title, Articles: cat.Articles})
			}
			return printList(g, cats, "SLUG\tTITLE\tDECLARATION", func(cat api.Category) []any { return []any{cat.Slug, cat.Title, cat.Articles} })
		},
	}
}
