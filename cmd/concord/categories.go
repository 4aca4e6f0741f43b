package main

import (
	"github.com/spf13/cobra"

	"github.com/concordnet/concord/node/api"
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
			var cats []api.Category
			if err := g.call(c.Context(), "GET", "/v1/categories", nil, &cats); err != nil {
				return err
			}
			if g.json {
				return printJSON(stdout, cats)
			}
			rows := make([][]any, len(cats))
			for i, cat := range cats {
				rows[i] = []any{cat.Slug, cat.Title, cat.Articles}
			}
			table(stdout, "SLUG\tTITLE\tDECLARATION", rows)
			return nil
		},
	}
}
